"""The held-out evaluation set for natural-language commands (bench/commands.py reads it).

Written by hand, separately from the training templates in server/commands/data.py: other
phrasings, typos, chatty wording, mixed case, a few German requests, and near-misses that
must *not* act ("did Bo get banned?"). Each frame is filled with several values from the
evaluation context (the shipped worlds, people present, their events), giving ``CASES``:
(text, intent, expected slots). Names here never occur in the training fillers.
"""

from __future__ import annotations

from server.commands.core import CommandContext, EventRef, PersonRef, PlaceRef, WorldRef

NOW = 1_796_000_000.0  # a fixed "now" (Unix seconds) so answers do not depend on the clock
H = 3600.0

CONTEXT = CommandContext(
    world="lobby",
    worlds=(
        WorldRef("lobby", "Plaza Lobby"),
        WorldRef("gallery", "The Gallery"),
        WorldRef("concert-hall", "Concert Hall"),
        WorldRef("forest-park", "Forest Park"),
        WorldRef("meeting-room", "Meeting Room"),
        WorldRef("bench-field", "Bench Field"),
    ),
    people=tuple(
        PersonRef(i + 10, n) for i, n in enumerate(["Bo", "Ana", "Kofi", "Mira", "Jun", "Sasha", "Priya", "Tomasz"])
    ),
    events=(
        EventRef("concert-hall/open-mic", "Open mic", "concert-hall", NOW + 2 * H, NOW + 4 * H, stage="main"),
        EventRef("concert-hall/friday-night-live", "Friday Night Live", "concert-hall", NOW + 26 * H, NOW + 29 * H),
        EventRef("lobby/welcome-tour", "Welcome tour", "lobby", NOW + 1 * H, NOW + 1.75 * H, stage="fountain"),
        EventRef("lobby/newcomer-meetup", "Newcomer meetup", "lobby", NOW - 0.5 * H, NOW + 0.5 * H, True, "fountain"),
        EventRef("gallery/sketch-night", "Sketch night", "gallery", NOW + 5 * H, NOW + 7 * H),
        EventRef("forest-park/campfire-stories", "Campfire stories", "forest-park", NOW + 8 * H, NOW + 9 * H),
        EventRef("meeting-room/book-club", "Sci-fi book club", "meeting-room", NOW + 30 * H, NOW + 31 * H),
    ),
    places=(
        PlaceRef("portal:to-gallery", "Gallery", (0, 1.5, -16), "gallery"),
        PlaceRef("portal:to-concert-hall", "Concert Hall", (14, 1.5, -8), "concert-hall"),
        PlaceRef("portal:to-forest-park", "Forest Park", (14, 1.5, 8), "forest-park"),
        PlaceRef("portal:to-meeting-room", "Meeting Room", (-14, 1.5, 8), "meeting-room"),
        PlaceRef("object:fountain-basin", "Fountain", (0, 0.3, 0)),
        PlaceRef("object:event-board", "Upcoming events", (0, 2.2, 14)),
        PlaceRef("object:welcome-table", "welcome table", (1.5, 0.45, 4.5)),
    ),
    now=NOW,
)

# Fillers: (what is written, the expected slot value).
W = [("gallery", "gallery"), ("concert hall", "concert-hall"), ("forest park", "forest-park"),
     ("meeting room", "meeting-room"), ("galery", "gallery"), ("concrt hall", "concert-hall"),
     ("Forrest Park", "forest-park"), ("bench field", "bench-field"), ("the gallery", "gallery"),
     ("Meeting-Room", "meeting-room")]  # fmt: skip
P = [("Bo", "Bo"), ("Ana", "Ana"), ("Kofi", "Kofi"), ("Mira", "Mira"), ("Jun", "Jun"), ("Sasha", "Sasha"),
     ("priya", "Priya"), ("Tomasz", "Tomasz"), ("Sasah", "Sasha"), ("Tomaszz", "Tomasz")]  # fmt: skip
E = [("open mic", "concert-hall/open-mic"), ("sketch night", "gallery/sketch-night"),
     ("campfire stories", "forest-park/campfire-stories"), ("welcome tour", "lobby/welcome-tour"),
     ("friday night live", "concert-hall/friday-night-live"), ("book club", "meeting-room/book-club"),
     ("opn mic", "concert-hall/open-mic"), ("newcomer meetup", "lobby/newcomer-meetup")]  # fmt: skip
OBJ = ["blue lamp", "giant pink flamingo", "small wooden boat", "green dragon", "stack of old books",
     "purple beanbag", "snowman", "red telephone box", "glass pyramid", "tiny orange robot"]  # fmt: skip
PL = [("gallery portal", "portal:to-gallery"), ("fountain", "object:fountain-basin"),
      ("portal to the concert hall", "portal:to-concert-hall"), ("event board", "object:event-board"),
      ("forest park portal", "portal:to-forest-park"), ("fountian", "object:fountain-basin"),
      ("welcome table", "object:welcome-table"), ("meeting room portal", "portal:to-meeting-room")]  # fmt: skip

# (frame, intent). {w} world, {p} person, {e} event, {o} object prompt, {l} place.
FRAMES: list[tuple[str, str]] = [
    # travel
    ("hey, could u bring me over to the {w}?", "travel"),
    ("I'd love to see the {w}, take me there", "travel"),
    ("teleport to {w} pls", "travel"),
    ("gimme the {w}", "travel"),
    ("{w} please, take me", "travel"),
    ("go {w} now!!", "travel"),
    ("i need to be in the {w}", "travel"),
    ("Take me 2 the {w}", "travel"),
    ("can we go over to the {w}", "travel"),
    ("ok send me to {w}", "travel"),
    ("bring me into the {w} world", "travel"),
    ("bitte bring mich zur {w}", "travel"),
    ("I want to travel over to the {w}", "travel"),
    ("off to the {w} then", "travel"),
    # guide
    ("where can I find the {l}?", "guide"),
    ("could you walk me over to the {l}", "guide"),
    ("show me where the {l} is please", "guide"),
    ("lead the way to the {l}", "guide"),
    ("im lost, how do i get to the {l}", "guide"),
    ("show me the way to the {l}", "guide"),
    ("which direction is the {l}?", "guide"),
    ("wo ist der {l}?", "guide"),
    ("can you guide me to the {l}", "guide"),
    ("take me on foot to the {l}", "guide"),
    # whats_on with an event
    ("when does the {e} start?", "whats_on"),
    ("what time's the {e}", "whats_on"),
    ("is {e} on yet", "whats_on"),
    ("when is {e} happening", "whats_on"),
    ("how long till {e}?", "whats_on"),
    ("wann beginnt {e}?", "whats_on"),
    ("tell me when the {e} begins", "whats_on"),
    ("has {e} started", "whats_on"),
    # whats_on, general (no slot)
    ("whats on tonite?", "whats_on"),
    ("anything fun happening this evening?", "whats_on"),
    ("What events are on later today", "whats_on"),
    ("is there a show tonight", "whats_on"),
    ("what's the plan for tonight", "whats_on"),
    ("any gigs coming up?", "whats_on"),
    ("was läuft heute abend?", "whats_on"),
    ("whats happening in plaza today", "whats_on"),
    ("show me the event schedule", "whats_on"),
    # who_here
    ("who's around right now?", "who_here"),
    ("whos here", "who_here"),
    ("who else is in here with me", "who_here"),
    ("how many ppl are in this world", "who_here"),
    ("who am I hanging out with?", "who_here"),
    ("wer ist hier?", "who_here"),
    ("is anyone else here?", "who_here"),
    ("list everybody in the room", "who_here"),
    # find_friends
    ("where r my friends", "find_friends"),
    ("are any of my mates online?", "find_friends"),
    ("find my buddies", "find_friends"),
    ("where did everyone I follow go", "find_friends"),
    ("which of my friends are on right now", "find_friends"),
    ("wo sind meine freunde", "find_friends"),
    ("can you locate my friends for me", "find_friends"),
    # generate
    ("make me a {o} right here", "generate"),
    ("could you create a {o}", "generate"),
    ("i'd like a {o} please", "generate"),
    ("generate a {o}", "generate"),
    ("spawn a {o} here pls", "generate"),
    ("put a {o} in front of me", "generate"),
    ("build a {o}", "generate"),
    ("can I have a {o}?", "generate"),
    # moderation
    ("mute {p}", "mute"),
    ("please mute {p}, they keep shouting", "mute"),
    ("silence {p} please", "mute"),
    ("can u mute {p}", "mute"),
    ("kick {p}", "kick"),
    ("kick {p} out of here", "kick"),
    ("get {p} out of this world", "kick"),
    ("ban {p}", "ban"),
    ("ban {p} permanently", "ban"),
    ("{p} is harassing people, ban them", "ban"),
    # help
    ("what can you do?", "help"),
    ("how do I use you", "help"),
    ("help pls", "help"),
    ("what are your commands", "help"),
    ("wie funktioniert das?", "help"),
    ("what kind of things can I ask", "help"),
    # unclear (including near-misses that must never act)
    ("did {p} get banned?", "unclear"),
    ("{p} was kicked last week lol", "unclear"),
    ("i think {p} is funny", "unclear"),
    ("the {w} is so pretty", "unclear"),
    ("i was in the {w} earlier", "unclear"),
    ("blah", "unclear"),
    ("purple", "unclear"),
    ("what's 2 plus 2", "unclear"),
    ("tell me something interesting", "unclear"),
    ("hallo zusammen", "unclear"),
    ("thx!", "unclear"),
    ("is {p} a mod?", "unclear"),
    ("hmm not sure", "unclear"),
    ("{p}!", "unclear"),
    ("i muted my microphone", "unclear"),
    ("do you like jazz", "unclear"),
    ("my cat is called {p}", "unclear"),
    ("the {e} was amazing last time", "unclear"),
    ("who built the {w}?", "unclear"),
    ("nope", "unclear"),
    ("lmao", "unclear"),
    ("that chair is ugly", "unclear"),
    # more of each, other wordings
    ("yo plaza, {w}!", "travel"),
    ("pls teleport me into the {w}", "travel"),
    ("ich will in den {w}", "travel"),
    ("wanna go to the {w}, can you do that", "travel"),
    ("mind showing me the {l}?", "guide"),
    ("point the way to the {l} please", "guide"),
    ("what time does {e} kick off", "whats_on"),
    ("is the {e} tonight?", "whats_on"),
    ("anything on right now?", "whats_on"),
    ("what's coming up this weekend", "whats_on"),
    ("how many others are here", "who_here"),
    ("who is online in this world", "who_here"),
    ("are my friends on", "find_friends"),
    ("is any of my friends in plaza", "find_friends"),
    ("create me a {o} next to me", "generate"),
    ("could I get a {o} here", "generate"),
    ("MUTE {p} NOW", "mute"),
    ("please kick {p}, they are being abusive", "kick"),
    ("ban {p} from here forever", "ban"),
    ("help me out, what can I say to you", "help"),
]


def _fill(frame: str, k: int) -> tuple[str, dict[str, str]]:
    slots: dict[str, str] = {}
    text = frame
    if "{w}" in frame:
        t, v = W[k % len(W)]
        text, slots["world"] = text.replace("{w}", t), v
    if "{p}" in frame:
        t, v = P[k % len(P)]
        text, slots["person"] = text.replace("{p}", t), v
    if "{e}" in frame:
        t, v = E[k % len(E)]
        text, slots["event"] = text.replace("{e}", t), v
    if "{l}" in frame:
        t, v = PL[k % len(PL)]
        text, slots["place"] = text.replace("{l}", t), v
    if "{o}" in frame:
        o = OBJ[k % len(OBJ)]
        text, slots["prompt"] = text.replace("{o}", o), o
    return text, slots


def cases(per_frame: int = 4) -> list[tuple[str, str, dict[str, str]]]:
    """Each frame filled with ``per_frame`` different values (frames without a slot: once)."""
    out: list[tuple[str, str, dict[str, str]]] = []
    for i, (frame, intent) in enumerate(FRAMES):
        n = per_frame if "{" in frame else 1
        for j in range(n):
            text, slots = _fill(frame, i * 7 + j * 3)
            if intent in ("unclear", "help", "who_here", "find_friends"):
                slots = {}  # names in near-misses are no slots
            out.append((text, intent, slots))
    return out


CASES = cases()
