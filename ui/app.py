"""The Gradio web chat, mounted at / in the API server (issue 4 fills this in)."""


def mount_ui(app, service) -> None:
    from fastapi.responses import RedirectResponse

    @app.get("/", include_in_schema=False)
    def root():
        return RedirectResponse("/docs")
