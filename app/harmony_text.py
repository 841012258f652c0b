"""Harmony in words: suggestion reasons, functions, key names and port events, translated.

The models speak in codes (:class:`models.next_chord.Reason`); this is the one place that turns
them into sentences in the user's language.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.i18n import N_, _, format_percent, is_right_to_left
from models.next_chord import Reason
from models.theory import Key, pretty

_FUNCTIONS = {
    "tonic": N_("tonic"),
    "predominant": N_("pre-dominant"),
    "dominant": N_("dominant"),
    "other": N_("colour"),
}
_MODES = {"major": N_("major"), "minor": N_("minor")}
_PORT_EVENTS = {
    "port_lost": N_("The MIDI port “{name}” went away; Hookline reconnects when it returns."),
    "port_back": N_("The MIDI port “{name}” is back."),
    "server_lost": N_("The MIDI system ({name}) stopped; Hookline reconnects when it returns."),
    "server_back": N_("The MIDI system ({name}) is back."),
    "open_failed": N_("The MIDI port “{name}” could not be opened."),
}


LRM = "\u200e"  # left-to-right mark


def music_text(text: str) -> str:
    """Chord symbols, numerals and note names read left to right in every language: in a
    right-to-left sentence "B♭" would otherwise show as "♭B". Marked only where needed."""
    return f"{LRM}{text}{LRM}" if text and is_right_to_left() else text


def numeral_text(numeral: str) -> str:
    """A roman numeral for display: ``bVI`` → ``♭VI``."""
    return music_text(pretty(numeral))


def symbol_text(symbol: str) -> str:
    """A chord symbol for display: ``Bb7`` → ``B♭7``."""
    return music_text(pretty(symbol))


def function_text(code: str) -> str:
    return _(_FUNCTIONS[code]) if code in _FUNCTIONS else ""


def key_text(key: Key | None) -> str:
    """``"A minor"`` in the user's language (the note name stays as musicians write it)."""
    if key is None:
        return ""
    return _("{tonic} {mode}").format(
        tonic=music_text(pretty(key.tonic_name)), mode=_(_MODES[key.mode])
    )


def mode_text(mode: str) -> str:
    """ "major" or "minor" in the user's language."""
    return _(_MODES[mode]) if mode in _MODES else mode


def port_event_text(kind: str, name: str) -> str:
    template = _PORT_EVENTS.get(kind)
    return _(template).format(name=name) if template else ""


def reason_text(reason: Reason, numeral: str) -> str:
    """One line saying why ``numeral`` is suggested."""
    p: Mapping[str, str | int] = reason.as_dict()
    step = {"from": numeral_text(str(p.get("from", ""))), "to": numeral_text(numeral)}
    share = format_percent(int(p.get("share", 0)) / 100)
    code = reason.code
    if code == "authentic_cadence":
        return _("{from}→{to}: authentic cadence").format(**step)
    if code == "plagal_cadence":
        return _("{from}→{to}: plagal cadence").format(**step)
    if code == "deceptive_cadence":
        return _("{from}→{to}: deceptive cadence").format(**step)
    if code == "half_cadence":
        return _("{from}→{to}: half cadence, the phrase pauses on the dominant").format(**step)
    if code == "predominant_to_dominant":
        return _("{from}→{to}: pre-dominant to dominant").format(**step)
    if code == "tonic_prolongation":
        return _("{from}→{to}: stays on the tonic").format(**step)
    if code == "resolves_secondary_dominant":
        return _("resolves the secondary dominant to {target}").format(
            target=numeral_text(str(p.get("target", numeral)))
        )
    if code == "secondary_dominant":
        return _("secondary dominant: leads to {target}").format(
            target=numeral_text(str(p.get("target", "")))
        )
    if code == "borrowed_from_parallel":
        mode = str(p.get("mode", ""))
        return _("borrowed from the parallel {mode}").format(
            mode=_(_MODES[mode]) if mode in _MODES else mode
        )
    if code == "picardy_third":
        return _("{from}→{to}: ends in major, a Picardy third").format(**step)
    if code == "neapolitan":
        return _("Neapolitan: a dark pre-dominant")
    if code == "tritone_substitution":
        return _("tritone substitute for {chord}").format(
            chord=numeral_text(str(p.get("of", "V7")))
        )
    if code == "start_on_tonic":
        return _("starts on the tonic")
    if code == "opening":
        return _("opens {share} of the phrases we learned from").format(share=share)
    if code == "common_progression":
        return _("{from}→{to} in {share} of the pieces we learned from").format(share=share, **step)
    if code == "frequent_chord":
        return _("one of the most used chords ({share})").format(share=share)
    return numeral_text(numeral)
