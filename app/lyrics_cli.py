"""``hookline lyrics``: scan a lyric sheet (and fit it to a melody), find rhymes, suggest lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from app.i18n import _, ngettext
from app.lyrics import LyricsError, LyricsTools, melody_from_midi
from app.paths import default_paths
from models.lyrics.scan import LineFit, SheetScan, WordScan

MAX_FILE_BYTES = 8 * 1024 * 1024


@click.group(help=_("Help with lyrics: rhymes, syllables, fitting words to a melody."))
def lyrics() -> None:
    pass


def _read_text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise LyricsError(_("{path} is larger than 8 MiB.").format(path=str(path)))
        data = path.read_bytes()
    except OSError as exc:
        raise LyricsError(
            _("{path} cannot be read: {reason}").format(path=str(path), reason=exc.strerror)
        ) from exc
    return data.decode("utf-8", errors="replace")


def _fail(exc: LyricsError) -> None:
    raise click.ClickException(str(exc)) from exc


@lyrics.command(help=_("Syllables, stresses and the rhyme scheme of a lyric sheet; with a "
                       "melody, which syllables land on which notes."))  # fmt: skip
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--melody", "melody_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None,
              help=_("A MIDI file whose top line the lines are sung to."))  # fmt: skip
@click.option("--language", default="en", show_default=True,
              help=_("Language of the lyrics: en uses the pronunciation dictionary; "
                     "others (de, fr, es, it, nl, pt, ru...) count syllables by "
                     "hyphenation."))  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
def scan(file: Path, melody_file: Path | None, language: str, as_json: bool) -> None:
    try:
        tools = LyricsTools(language=language)
        text = _read_text(file)
        sheet = tools.scan(text)
        fits: list[LineFit] = []
        if melody_file is not None:
            melody = melody_from_midi(melody_file)
            fits = tools.fit(text, melody)
    except LyricsError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(json.dumps(_scan_json(sheet, fits), ensure_ascii=False, indent=1))
        return
    click.echo(_scan_text(sheet, fits))


@lyrics.command(help=_("Words that rhyme with WORD: perfect and multi-syllable rhymes, closest "
                       "and most common first."))  # fmt: skip
@click.argument("word")
@click.option("--near", is_flag=True, help=_("Near (slant) rhymes too."))
@click.option("--kinds", default="", help=_("Exactly these kinds, comma-separated: perfect, "
                                            "multi, near, assonance, consonance."))  # fmt: skip
@click.option("--syllables", type=click.IntRange(1, 12), default=None,
              help=_("Only rhymes of this many syllables."))  # fmt: skip
@click.option("--stress", default=None,
              help=_('Only rhymes with this stress pattern, one digit a syllable: '
                     '"10".'))  # fmt: skip
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
def rhymes(
    word: str,
    near: bool,
    kinds: str,
    syllables: int | None,
    stress: str | None,
    limit: int,
    as_json: bool,
) -> None:
    tools = LyricsTools(cache_dir=default_paths().cache_dir)
    chosen = [k.strip() for k in kinds.split(",") if k.strip()] or None
    try:
        found = tools.rhymes(word, near=near, syllables=syllables, kinds=chosen, limit=limit,
                             stress=stress)  # fmt: skip
    except LyricsError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(json.dumps({"word": word, "rhymes": [
            {"word": r.word, "kind": r.kind, "score": r.score, "syllables": r.syllables,
             "stress": r.stress} for r in found]}, ensure_ascii=False))  # fmt: skip
        return
    if not found:
        click.echo(_("No rhymes found for “{word}”.").format(word=word), err=True)
        raise SystemExit(1)
    for r in found:
        click.echo(f"{r.word:<20} {r.kind_label:<16} {r.syllables}")


@lyrics.command(help=_("Suggest lines with an exact syllable count, optionally ending in a "
                       "rhyme and continuing a previous line."))  # fmt: skip
@click.option("--syllables", type=click.IntRange(1, 24), default=8, show_default=True)
@click.option("--rhyme-with", "rhyme_with", default=None, help=_("End each line in a rhyme of "
                                                                 "this word."))  # fmt: skip
@click.option("--after", default="", help=_("The previous line: its words are preferred."))
@click.option("--topic", multiple=True, help=_("A topic word (repeat the option for more)."))
@click.option("--stress", default=None,
              help=_('Stress pattern to follow, one digit a syllable: "01010101".'))  # fmt: skip
@click.option("--count", type=click.IntRange(1, 20), default=5, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
def suggest(
    syllables: int,
    rhyme_with: str | None,
    after: str,
    topic: tuple[str, ...],
    stress: str | None,
    count: int,
    seed: int,
    as_json: bool,
) -> None:
    tools = LyricsTools()
    try:
        ideas = tools.suggest(syllables, rhyme_with=rhyme_with, after=after, topic=topic,
                              stress=stress, count=count, seed=seed)  # fmt: skip
    except LyricsError as exc:
        _fail(exc)
        return
    if as_json:
        lines = [{"text": t, "syllables": syllables, "stress": s}
                 for t, s in zip(ideas.lines, ideas.stresses, strict=True)]  # fmt: skip
        click.echo(json.dumps({"lines": lines, "note": ideas.note or None}, ensure_ascii=False))
        return
    for line in ideas.lines:
        click.echo(line)
    if ideas.note:
        click.echo(ideas.note, err=True)
    if not ideas.lines:
        raise SystemExit(1)


def _scan_json(sheet: SheetScan, fits: list[LineFit]) -> dict[str, Any]:
    by_number = {f.line.number: f for f in fits}
    lines = []
    for line in sheet.lines:
        entry: dict[str, Any] = {
            "line": line.number + 1,
            "text": line.text,
            "syllables": line.syllables,
            "certain": line.certain,
            "stress": line.stress,
            "rhyme": line.letter or None,
            "words": [_word_json(w) for w in line.words],
        }
        if line.unknown_words:
            entry["unknown"] = line.unknown_words
        found = by_number.get(line.number)
        if found is not None:
            entry["fit"] = {
                "notes": len(found.notes),
                "difference": found.difference,
                "misplaced_stress": list(found.misplaced_words),
                "syllables": [
                    {"word": s.word, "syllable": s.syllable, "stress": s.stress,
                     "note": s.note if s.note >= 0 else None,
                     "beat": s.beat if s.note >= 0 else None,
                     "weight": s.weight if s.note >= 0 else None}
                    for s in found.slots
                ],
            }  # fmt: skip
        lines.append(entry)
    return {
        "lines": lines,
        "stanzas": [s.pattern for s in sheet.stanzas],
        "lines_not_scanned": sheet.lines_not_scanned,
        "words_not_scanned": sheet.words_not_scanned,
    }


def _word_json(word: WordScan) -> dict[str, Any]:
    p = word.pronunciation
    return {"word": word.text, "syllables": p.syllables, "stress": p.stress, "source": p.source}


def _scan_text(sheet: SheetScan, fits: list[LineFit]) -> str:
    by_number = {f.line.number: f for f in fits}
    out: list[str] = []
    for line in sheet.lines:
        if line.blank:
            out.append("")
            continue
        count = str(line.syllables) + ("" if line.certain else "?")
        row = f"{count:>4} {line.letter or ' ':>2}  {line.text}"
        found = by_number.get(line.number)
        if found is not None:
            if not found.notes:
                row += "  " + _("[no phrase left in the melody]")
            elif found.difference > 0:
                row += "  " + ngettext(
                    "[{count} syllable too many]", "[{count} syllables too many]", found.difference
                ).format(count=found.difference)
            elif found.difference < 0:
                row += "  " + ngettext(
                    "[{count} syllable too few]", "[{count} syllables too few]", -found.difference
                ).format(count=-found.difference)
            if found.misplaced_words:
                row += "  " + _("[stress on a weak beat: {words}]").format(
                    words=", ".join(found.misplaced_words)
                )
        out.append(row)
    while out and not out[-1]:
        out.pop()
    patterns = " ".join(s.pattern for s in sheet.stanzas)
    if patterns:
        out.append("")
        out.append(_("Rhyme scheme: {patterns}").format(patterns=patterns))
    if sheet.lines_not_scanned or sheet.words_not_scanned:
        out.append(
            _("Only the start was scanned: {lines} lines and {words} words were left out.").format(
                lines=sheet.lines_not_scanned, words=sheet.words_not_scanned
            )
        )
    return "\n".join(out)
