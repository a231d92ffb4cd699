"""The HTTP routes, one router per group of the API; rag.web.app includes them."""
