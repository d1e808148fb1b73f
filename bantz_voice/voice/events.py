"""What the voice loop tells the rest of the program: typed events to one observer.

The user's state and the assistant's are separate (LiveKit Agents' ``user_state`` /
``agent_state``): the user is ``listening`` (nobody speaks to the microphone), ``speaking`` or
``silent`` (a pause inside an utterance, the endpointer's hangover); the assistant is ``idle``
(not listening at all), ``listening``, ``thinking``, ``speaking`` or ``muted``. A
:class:`VoiceObserver` subclass overrides the methods it needs; the defaults do nothing. Observer
errors are logged and never reach the loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bantz_voice.audio.vad import Utterance
    from bantz_voice.voice.turn import Turn

UserState = Literal["listening", "speaking", "silent"]
AgentState = Literal["idle", "listening", "thinking", "speaking", "muted"]


@dataclass(frozen=True)
class UserStateChanged:
    old: UserState
    new: UserState
    t: float  # monotonic time of the frame that changed it
    utterance: Utterance | None = None  # back to ``listening`` at an endpoint / PTT release: what was said


@dataclass(frozen=True)
class AgentStateChanged:
    old: AgentState
    new: AgentState


@dataclass(frozen=True)
class TurnStarted:
    """A turn was accepted (the gate passed it, or a PTT/say/WAV/text turn) and is about to run."""

    turn: Turn


@dataclass(frozen=True)
class TurnFinished:
    """A turn ended: answered, failed (``turn.error``), interrupted or ignored (``turn.ignored``:
    no transcript, or the gate said no; such a turn had no :class:`TurnStarted`)."""

    turn: Turn


VoiceEvent = UserStateChanged | AgentStateChanged | TurnStarted | TurnFinished


class VoiceObserver:
    """Receives the voice loop's events, on the event loop, in the order they happen."""

    def on_user_state(self, event: UserStateChanged) -> None:
        return None

    def on_agent_state(self, event: AgentStateChanged) -> None:
        return None

    def on_turn_started(self, event: TurnStarted) -> None:
        return None

    def on_turn_finished(self, event: TurnFinished) -> None:
        return None
