"""Site boilerplate never reaches the index; article text always does."""

from rag.ingest.loading import RawArticle, load_articles
from rag.ingest.cleaning import clean_articles, clean_text
from tests.conftest import SEEDS

BODY = [
    "The city council approved the new tram line on Tuesday after a four-hour debate, with 31 votes in favour and 12 against.",
    "Construction will begin in March and is expected to cost 420 million euros, according to the transport department.",
    "Opponents argued that the route bypasses the northern districts, where bus services were cut last year.",
    "Mayor Ana Ruiz said the first section would open in 2028 and that fares would match current bus prices.",
]


def raw(text, id_="t1"):
    return RawArticle(id=id_, title="Tram line approved", text=text, source=f"{id_}.txt")


def test_seed_promotions_share_bar_and_teasers_are_removed():
    [article], _ = clean_articles(load_articles(SEEDS).articles)
    for junk in ("Bybit", "Share to:", "informational purposes", "Curated Series", "SuperEx",
                 "Unstaked", "XRP News", "beginners trade options", "risks of investing"):
        assert junk not in article.text, junk
    # The article's own last paragraph stays.
    assert article.text.rstrip().endswith("compete with Apple Inc.’s latest devices.")
    assert "700 million yuan" in article.text


def test_newsletter_follow_and_related_teasers_after_the_article():
    tail = [
        "Subscribe to our morning newsletter",
        "Follow us on Twitter and Facebook",
        "Related stories",
        "Harbour bridge repairs delayed", "Harbour bridge repairs delayed",
        "Engineers found more corrosion than expected in the 1960s steel span, pushing reopening into spring.",
        "Five restaurants to try this winter", "Five restaurants to try this winter",
        "Our critic picks the best new openings across the old town, from ramen to tapas.",
    ]
    text = clean_text("\n\n".join(BODY + tail))
    assert text == "\n\n".join(BODY)


def test_headings_inside_an_article_are_kept():
    text = "\n\n".join(BODY[:2] + ["What happens next"] + BODY[2:])
    assert clean_text(text) == text


def test_a_last_sentence_that_mentions_a_keyword_is_kept():
    last = ("Residents who want to comment on the route can sign up for one of three public "
            "hearings that the council will hold at the town hall in January and February.")
    text = "\n\n".join(BODY + [last])
    assert clean_text(text) == text


def test_footer_repeated_across_articles_is_removed_but_a_short_real_line_is_not():
    footer = "© 2025 Harbour Times Media. All rights reserved"
    articles = [raw("\n\n".join([f"Story {i} opening paragraph about the harbour and its ships, number {i}.",
                                 BODY[i % 4], footer]), f"a{i}") for i in range(4)]
    cleaned, skipped = clean_articles(articles)
    assert skipped == []
    for article in cleaned:
        assert "All rights reserved" not in article.text
        assert "opening paragraph" in article.text


def test_content_hash_changes_with_text_only():
    [a], _ = clean_articles([raw("\n\n".join(BODY))])
    [b], _ = clean_articles([raw("\n\n".join(BODY))])
    [c], _ = clean_articles([raw("\n\n".join(BODY[:3]))])
    assert a.sha256 == b.sha256 != c.sha256


KEYWORD_NEWS = [
    "The regulator said the advertisement was misleading.",
    "Copyright lawyers for the studio declined to comment.",
    "Readers who subscribe pay 9 euros a month, the publisher said.",
]


def test_a_keyword_alone_never_removes_a_paragraph_first_in_the_middle_or_last():
    for sentence in KEYWORD_NEWS:
        for text in ("\n\n".join([sentence] + BODY), "\n\n".join(BODY[:2] + [sentence] + BODY[2:]),
                     "\n\n".join(BODY + [sentence])):
            assert sentence in clean_text(text), (sentence, text.index(sentence))


def test_a_keyword_paragraph_goes_when_repetition_agrees():
    footer = "Advertisement"
    articles = [raw("\n\n".join([footer, f"Story {i} about the harbour and its ships, number {i}.",
                                 BODY[i % 4], footer]), f"a{i}") for i in range(4)]
    cleaned, _ = clean_articles(articles)
    for article in cleaned:
        assert "Advertisement" not in article.text and "about the harbour" in article.text


NOTICE = ("We will use the information you have shared for carefully considered and specific "
          "purposes, where we believe we have a legitimate case to do so, for example to send you "
          "communications about similar products and services we offer. You can find out more "
          "about our legitimate interest activity in our Privacy Policy.")
WIRE = ("The agency said the storm would bring heavy rain to the coast on Friday, with gusts of up "
        "to 90 kilometres an hour expected in exposed areas and flooding likely along the rivers "
        "that drain the hills, and it asked residents to avoid travel until Saturday morning.")


def test_a_long_privacy_notice_on_every_page_goes_but_a_long_shared_news_paragraph_stays():
    assert 40 < len(NOTICE.split()) <= 100 and 40 < len(WIRE.split()) <= 100
    articles = [raw("\n\n".join([f"Story {i} about the harbour and its ships, number {i}.", NOTICE,
                                 WIRE, BODY[i % 4]]), f"a{i}") for i in range(4)]
    cleaned, _ = clean_articles(articles)
    for article in cleaned:
        assert "legitimate interest" not in article.text
        assert WIRE in article.text and "about the harbour" in article.text
    # On one page only, the notice is not known to be furniture: a keyword alone removes nothing.
    [alone], _ = clean_articles(articles[:1])
    assert "legitimate interest" in alone.text
