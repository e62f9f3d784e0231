"""Look-alike names (TR39 confusable skeletons) and invisible characters in names and chat."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from server.hosting import Hosting
from server.hosting.errors import InvalidArgument, InvalidDisplayName, NameReserved, UserNameTaken
from server.hosting.text import clean_name, clean_text, name_keys, names_collide
from server.hostlink import HostLink
from tests.hosting.conftest import MEMBER, NOW

LOOKALIKES_OF_KOFI = [
    "Kοfi",  # Greek small omicron
    "Ｋofi",  # fullwidth K
    "K\u200bofi",  # zero-width space
    "\u202eKofi",  # right-to-left override
    "KOFI",
    " kofi ",
    "Kofi\x00",
]


@pytest.mark.parametrize("name", LOOKALIKES_OF_KOFI)
def test_lookalikes_of_an_account_are_refused(hosting: Hosting, name: str) -> None:
    hosting.identity.register("Kofi", "password1", NOW)
    assert names_collide(name, "kofi")
    with pytest.raises(NameReserved):
        hosting.identity.guest(name, NOW, hosting.reserved())
    bob = hosting.identity.register("bobby", "password1", NOW)
    with pytest.raises(NameReserved):
        hosting.identity.check_display_name(name, bob, hosting.reserved())


def test_cyrillic_a(hosting: Hosting) -> None:
    hosting.identity.register("ana", "password1", NOW)
    with pytest.raises(NameReserved):
        hosting.identity.guest("аna", NOW)  # Cyrillic а
    assert hosting.identity.guest("anna", NOW)


@pytest.mark.parametrize("name", ["Оlivia", "olіvia", "Ｍax", "M\u0456a"])  # Cyrillic О, і; fullwidth Ｍ
def test_lookalikes_of_staff_names_are_refused_before_anyone_registers(hosting: Hosting, name: str) -> None:
    assert not hosting.store.account_exists("olivia")
    with pytest.raises(NameReserved):
        hosting.identity.guest(name, NOW, hosting.reserved())


def test_user_names_that_look_like_taken_or_staff_names(hosting: Hosting) -> None:
    hosting.identity.register("kofi", "password1", NOW)
    with pytest.raises(UserNameTaken, match="looks too much like 'kofi'"):
        hosting.identity.register("k0fi", "password1", NOW)  # digit zero
    with pytest.raises(UserNameTaken, match="looks too much like 'olivia'"):
        hosting.identity.register("0livia", "password1", NOW, reserved=hosting.reserved())


def test_an_account_may_show_its_own_name_in_any_spelling(hosting: Hosting) -> None:
    kofi = hosting.identity.register("kofi", "password1", NOW)
    assert hosting.identity.check_display_name("Ｋofi", kofi) == "Ｋofi"
    olivia = hosting.claim_reserved("olivia", "password1", NOW)
    assert hosting.identity.check_display_name("Olivia", olivia, hosting.reserved()) == "Olivia"


def test_display_names_lose_invisible_characters(hosting: Hosting) -> None:
    tok = hosting.identity.guest("Gus\u202e\u2066\u200d\x00 \u3164 ", NOW)
    assert hosting.identity.authenticate(tok, NOW).name == "Gus"
    for blank in ("\u200b\u200b", "\u202e", "\x00", "\u3164"):
        with pytest.raises(InvalidDisplayName):
            hosting.identity.guest(blank, NOW)


def test_clean_text() -> None:
    assert clean_text("a\u202ab\u202bc\u202cd\u202de\u202ef\u2066g\u2067h\u2068i\u2069j") == "abcdefghij"
    assert clean_text("zero\u200bwidth\ufeff\u2060") == "zerowidth"
    assert clean_text("nul\x00 bel\x07 del\x7f") == "nul bel del"
    assert clean_text("two\nlines") == "two lines"
    assert clean_text("family 👩\u200d👩\u200d👧") == "family 👩\u200d👩\u200d👧"  # emoji joiners stay
    assert clean_name("  a   b ") == "a b"
    assert name_keys("\u200b") == frozenset()


def test_chat_text_is_cleaned_on_the_hub_path(hosting: Hosting) -> None:
    link = HostLink(SimpleNamespace(), hosting, lambda ms: ms / 1000.0)  # type: ignore[arg-type]
    s = SimpleNamespace(principal=MEMBER)
    shown = link.chat_text(s, "plaza", "hi \u202etxt.exe\u202c\x00 there\u200b", int(NOW * 1000))  # type: ignore[arg-type]
    assert shown == "hi txt.exe there"
    assert hosting.moderation.recent_chat("plaza")[-1].text == shown
    with pytest.raises(InvalidArgument):
        hosting.moderation.chat("plaza", MEMBER, "\u200b\u202e", NOW + 5)
