"""The privacy export and delete of one person, across both stores of ``plaza.sqlite3``.

One person is one user key (``a:<user name>`` for an account, ``g:<guest id>`` for a guest;
``Principal.key``). ``server.storage.SQLiteStorage`` holds their recommender signals (visits,
follows, likes, interests); ``server.hosting.store.SQLiteHostingStore`` holds the rest
(account, roles, blocks, reports, audit entries, RSVPs, attendance, events).

Delete policy:

* deleted: the account row (sign-in and every token stop working; the name is free again),
  their roles, visits, follows both ways, likes, interests, RSVPs, attendance, the bans, mutes
  and kicks *of* them, the reports they made, and owner-created events they host;
* anonymised (their key becomes ``"deleted"``; the row is someone else's record too): audit
  entries naming them, grants and invites they made, blocks and locks they imposed, the
  "created by" of events, their lines quoted in reports about other people, and their key in
  other people's visits ("friends present") and in event spotlights;
* kept for ``REPORT_HOLD_S`` (90 days): reports *about* them, so moderators can still act on
  abuse by someone who deletes their account to escape it; :func:`purge` removes them after
  that (run it daily, e.g. next to the storage retention purge).

Free text written by *other* people (a chat line mentioning their name, a moderator's reason)
is not rewritten, except exact occurrences of the user key in audit reasons.

API::

    export_person(storage, hosting, user_key) -> dict          # everything, for the person
    delete_person(storage, hosting, user_key, now) -> dict      # rows touched per table
    purge(hosting, now) -> int                                  # held reports past their hold
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.hosting.identity import Principal

if TYPE_CHECKING:
    from server.hosting import Hosting
    from server.storage import Storage

REPORT_HOLD_S = 90 * 24 * 3600.0


def export_person(storage: Storage, hosting: Hosting, user: str) -> dict[str, object]:
    """Everything both stores hold about ``user`` (a user key); no password hash."""
    Principal.from_key(user)  # InvalidUserKey for anything else
    return {"user": user, "signals": storage.export_user(user), "hosting": hosting.store.export_user(user)}


def delete_person(storage: Storage, hosting: Hosting, user: str, now: float) -> dict[str, int]:
    """Delete / anonymise everything naming ``user`` (see the module docstring) and forget them
    in memory; returns rows touched per table (``signals`` for the recommender tables).

    For an account the HTTP layer should first ask for the password again
    (``hosting.identity.confirm_password``), since a stolen token must not be enough."""
    p = Principal.from_key(user)
    counts = {"signals": storage.delete_user(user)}
    counts.update(hosting.store.delete_user(user, now + REPORT_HOLD_S))
    if p.account is not None:
        hosting.identity.delete_account(p.account)  # the name index and sign-in counters
    hosting.forget_person(user)
    return counts


def purge(hosting: Hosting, now: float) -> int:
    """Delete reports about deleted people whose 90-day hold has ended."""
    return hosting.store.purge_holds(now)
