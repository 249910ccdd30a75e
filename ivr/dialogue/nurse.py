"""The nurse half of a call: put through with a whisper when the nurses are open; otherwise (or
when they are busy or do not answer) a call-back or a message, each promised with a time.

A pure function of the position, what happened, the time and whether a save succeeded: no Flask,
no database. Menus are :class:`~ivr.dialogue.menus.Menu` data like the leaflets'; the engine
adds the keys that work everywhere and answers silence and wrong keys.
"""

from __future__ import annotations

from ivr.dialogue.leaflets import LeafletFlow
from ivr.dialogue.menus import Go, Menu, Option
from ivr.dialogue.speaking import LineRules, Voice
from ivr.dialogue.steps import (
    MAX_COUNT,
    Bridge,
    CallContext,
    Choice,
    DialEnded,
    DigitEntry,
    HangUp,
    Listen,
    Position,
    Record,
    Recorded,
    Reply,
    Save,
    SaveCallback,
    SaveMessage,
    Silence,
    Step,
    Transfer,
    small_int,
)
from ivr.nurse.numbers import uk_callback_number
from ivr.nurse.phrases import closed_utterance_at
from ivr.prompts import Utterance

__all__ = ["NurseFlow"]


class NurseFlow:
    """The nurse line for one set of rules. Methods may raise PromptError for a missing prompt."""

    def __init__(self, voice: Voice, leaflets: LeafletFlow, rules: LineRules) -> None:
        self.voice = voice
        self.keys = voice.keys
        self.leaflets = leaflets
        self.rules = rules

    # --- putting through -----------------------------------------------------------------------

    def can_transfer(self, position: Position, context: CallContext) -> bool:
        return context.moment.open and position.tries < self.rules.max_transfers

    def start(self, position: Position, context: CallContext) -> Step | Go:
        """Entering the nurse line: put through (open, and tries left), or say why not (where no
        key can skip it, with the emergency sentence) and offer a call-back or a message."""
        if self.can_transfer(position, context):
            ringing = position.but(kind="nurse", tries=min(position.tries + 1, MAX_COUNT), quiet=0, wrong=0, held="",
                                   reason="")
            whisper = Position("whisper", position.slug, position.section, position.part, origin=position.origin)
            return Step(ringing, (self.voice.say("nurse.connecting"),), (), None, Transfer(ringing, whisper))
        if not context.moment.open:
            options = position.but(kind="nurse-options", reason="closed", quiet=0, wrong=0, held="")
            why = closed_utterance_at(context.moment.next_opening, context.moment.now, self.voice.prompts)
        else:  # open, but tried as often as allowed in this call
            options = position.but(kind="nurse-options", reason=position.reason or "busy", quiet=0, wrong=0, held="")
            why = self.voice.say("nurse.busy" if options.reason == "busy" else "nurse.no_answer")
        return Go(options, (why, self.voice.say("safety.emergency")))

    def dial_ended(self, position: Position, event: DialEnded) -> Step | Go:
        """The transfer ended: after talking to a nurse, goodbye; otherwise what happens next."""
        if event.answered:
            return self.goodbye(position)
        reason = "no-answer" if event.status == "no-answer" else "busy"
        options = position.but(kind="nurse-options", reason=reason, quiet=0, wrong=0, held="")
        why = self.voice.say("nurse.no_answer" if reason == "no-answer" else "nurse.busy")
        return Go(options, (why, self.voice.say("safety.emergency"), self.voice.say("nurse.next_steps")))

    def goodbye(self, position: Position, *, first: tuple[Utterance, ...] = ()) -> Step:
        """The line ends the call: always after the emergency sentence."""
        said = (*first, self.voice.say("safety.before_goodbye"), self.voice.say("call.goodbye"))
        return Step(position.but(quiet=0, wrong=0), said, (), None, HangUp())

    # --- menus ---------------------------------------------------------------------------------

    def _back(self, position: Position) -> tuple[Go, Utterance]:
        place = position.place
        prompt = "nurse.options.back_menu" if place.kind == "leaflets" or place == self.leaflets.top(place.rate) \
            else "nurse.options.back_leaflet"
        return Go(place), self.voice.press(prompt, self.keys.everywhere["back"])

    def _again(self, position: Position, context: CallContext) -> tuple[Utterance, ...]:
        if self.can_transfer(position, context):
            return (self.voice.press("nurse.options.again", self.keys.everywhere["nurse"]),)
        return ()

    def menu(self, position: Position, context: CallContext) -> Menu:
        """The menu at a nurse-line state that waits for a choice."""
        voice = self.voice
        base = position.but(quiet=0, wrong=0, held="")
        back, back_said = self._back(position)
        if position.kind == "nurse-options":
            options = (
                Option(Choice("1", "callback", numbered=True), voice.offer("nurse.options.callback", "1"),
                       Go(base.but(kind="nurse-callback"))),
                Option(Choice("2", "message", numbered=True), voice.offer("nurse.options.message", "2"),
                       Go(base.but(kind="nurse-message"))),
            )
            return Menu((), options, back, (*self._again(position, context), back_said))
        if position.kind == "nurse-callback":  # the caller's own number: 1 to use it, 2 to give another
            number = context.caller_number or ""
            header = (voice.say("nurse.callback.this_number"), *voice.number(number),
                      voice.offer_answers("nurse.callback.confirm"))
            due = self.rules.due(context.moment.now)
            return Menu(header, self._yes_no(SaveCallback(base, due, number, "caller"), Go(base.but(kind="nurse-keyin"))),
                        Go(base.but(kind="nurse-options")))
        if position.kind == "nurse-number":  # a keyed number read back in full
            number = position.held
            header = (voice.say("nurse.callback.you_keyed"), *voice.number(number),
                      voice.offer_answers("nurse.callback.check"))
            due = self.rules.due(context.moment.now)
            return Menu(header, self._yes_no(SaveCallback(base.but(held=number), due, number, "keyed"),
                                             Go(base.but(kind="nurse-keyin"))),
                        Go(base.but(kind="nurse-options")))
        if position.kind == "nurse-failed":
            kind, _, held = position.held.partition(":")
            save = self._retry(base, kind, held, context)
            retry = "nurse.message.retry" if kind == "m" else "nurse.callback.retry"
            retries: tuple[Option, ...] = (Option(Choice("1", "retry", numbered=True), voice.press(retry, "1"), save),) \
                if save else ()
            return Menu((), retries, back, (*self._again(position, context), back_said))
        # nurse-saved: nothing more is needed; the caller may go back or hang up
        prompt = "nurse.after_saved_menu" if back_said.id.endswith("back_menu") else "nurse.after_saved"
        return Menu((), (), back, (voice.press(prompt, self.keys.everywhere["back"]),))

    def _yes_no(self, yes: Save, no: Go) -> tuple[Option, ...]:
        answer = self.keys.answer
        return (Option(Choice(answer["yes"], "yes"), None, yes), Option(Choice(answer["no"], "no"), None, no))

    def _retry(self, position: Position, kind: str, held: str, context: CallContext) -> Save | None:
        due = self.rules.due(context.moment.now)
        sid, _, seconds = held.partition(":")
        if kind == "m" and sid.startswith("RE") and sid.isalnum():
            return SaveMessage(position.but(kind="nurse-message"), due, sid, small_int(seconds, 0, 86400) or 0)
        number = uk_callback_number(held)
        if kind == "c" and number is not None:
            return SaveCallback(position.but(kind="nurse-number", held=number), due, number)
        return None

    # --- keying in a number --------------------------------------------------------------------

    def keyin_step(self, position: Position, before: tuple[Utterance, ...], choices: tuple[Choice, ...]) -> Step:
        speech = self.voice.keyed("nurse.callback.key_in", finish="#", back=self.keys.everywhere["back"])
        listen = Listen(choices, self.rules.key_timeout, DigitEntry("#"))
        return Step(position, before, (speech,), listen, Silence(position))

    def keyed(self, position: Position, digits: str) -> Go | None:
        """A number keyed in: read it back to confirm; None when it is not a UK number we can ring
        (the engine answers that like a wrong key). ``*`` anywhere goes back to the options."""
        if "*" in digits:
            return Go(position.but(kind="nurse-options", quiet=0, wrong=0, held=""))
        number = uk_callback_number(digits.rstrip("#"))
        if number is None:
            return None
        return Go(position.but(kind="nurse-number", held=number, quiet=0, wrong=0))

    def callback_start(self, position: Position, context: CallContext) -> Go | None:
        """Entering the call-back: offer the caller's own number, or (None) ask them to key one in."""
        return None if context.caller_number else Go(position.but(kind="nurse-keyin"))

    # --- messages ------------------------------------------------------------------------------

    def record(self, position: Position, before: tuple[Utterance, ...] = ()) -> Step:
        said = (*before, self.voice.say("nurse.message.instructions"))
        return Step(position, said, (), None, Record(position))

    def recorded(self, position: Position, event: Recorded, context: CallContext) -> Reply | Go:
        """After <Record>: save what was said, or say nothing was heard. A caller who reached the
        recording by saying nothing, and then said nothing, is told how to get help before the end."""
        if event.seconds > 0 and event.recording_sid.startswith("RE"):
            return SaveMessage(position, self.rules.due(context.moment.now), event.recording_sid, event.seconds)
        nothing = self.voice.say("nurse.message.nothing_heard")
        if position.quiet > 0:
            return self.goodbye(position, first=(nothing, self.voice.say("nurse.try_later")))
        return Go(position.but(kind="nurse-options", quiet=0, wrong=0), (nothing,))

    # --- after a save --------------------------------------------------------------------------

    def after_save(self, save: Save, saved: bool, context: CallContext) -> Go:
        """What the caller hears once the request is stored (or could not be)."""
        voice, now = self.voice, context.moment.now
        position = save.position.but(quiet=0, wrong=0)
        if not saved:
            held = f"m:{save.recording_sid}:{save.seconds}" if isinstance(save, SaveMessage) else f"c:{save.number}"
            failed = "nurse.message.not_saved" if isinstance(save, SaveMessage) else "nurse.callback.not_saved"
            return Go(position.but(kind="nurse-failed", held=held), (voice.say(failed),))
        if isinstance(save, SaveMessage):
            said: tuple[Utterance, ...] = (voice.say("nurse.message.saved"), voice.promise("message", save.due, now))
        else:
            said = (voice.say("nurse.callback.saved"), *voice.number(save.number),
                    voice.promise("callback", save.due, now))
        if self.rules.callback_from:
            said += (voice.say("nurse.promise.from"), *voice.number(self.rules.callback_from))
        said += (voice.say("safety.feel_worse"),)
        return Go(position.but(kind="nurse-saved", held=""), said)

    # --- the nurse's leg -----------------------------------------------------------------------

    def whisper(self, position: Position) -> Step:
        """What the nurse hears on answering: who is calling, then "press 1 to accept"."""
        accept = self.voice.press("nurse.whisper.accept", self.keys.answer["yes"])
        said = (accept,) if position.quiet else (self.whisper_text(position), accept)
        listen = Listen((Choice(self.keys.answer["yes"], "accept"),), self.rules.key_timeout)
        return Step(position, (), said, listen, Silence(position))

    def whisper_answer(self, position: Position, digits: str | None) -> Step:
        """1 connects the caller; silence or another key asks once more, then declines (the caller
        hears that nobody could answer: a voicemail that picks up never swallows them)."""
        if digits == self.keys.answer["yes"]:
            return Step(position, (), (), None, Bridge())
        if position.quiet == 0:
            return self.whisper(position.but(quiet=1))
        return Step(position, (), (), None, HangUp())

    def whisper_text(self, position: Position) -> Utterance:
        """Who is calling and what they were listening to; unknown leaflets or sections are left out."""
        leaflet, section = self.leaflets.listening_to(position)
        if leaflet is None:
            return self.voice.say("nurse.whisper.caller")
        if section is None:
            return self.voice.say("nurse.whisper.leaflet", leaflet=leaflet.title)
        if section.number == 0:
            return self.voice.say("nurse.whisper.intro", leaflet=leaflet.title)
        return self.voice.say("nurse.whisper.position", leaflet=leaflet.title, section=section.title)
