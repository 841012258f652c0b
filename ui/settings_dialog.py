"""The settings dialog: every option of :data:`app.settings.OPTIONS` a user should touch.

It reads and writes only through :class:`app.settings.Settings` (``get``/``set``/``save``), so
validation and the file format stay in one place. The interface language applies at the next
start; the dialog says so as soon as another language is picked.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from app import hardware
from app.i18n import LANGUAGES, _, format_decimal, ngettext
from app.settings import OPTIONS_BY_KEY, Settings, Value
from ui.choices import fill_choices, input_device_choices
from ui.messages import show_message
from ui.qt_language import layout_direction

log = logging.getLogger(__name__)

BLOCK_SIZES = (64, 128, 256, 512, 1024, 2048)
MIDI_APIS = {
    "auto": "Automatic",
    "alsa": "ALSA",
    "jack": "JACK",
    "coremidi": "CoreMIDI",
    "winmm": "Windows MIDI",
}


def _combo(items: list[tuple[str, Value]], current: Value) -> QComboBox:
    return fill_choices(QComboBox(), items, current)


def _note(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.changed_keys: list[str] = []
        self.setWindowTitle(_("Settings"))
        self.setLayoutDirection(layout_direction())
        self.setMinimumWidth(520)
        self.fields: dict[str, QWidget] = {}

        layout = QVBoxLayout(self)
        self.forms: list[QFormLayout] = []
        layout.addWidget(self._interface_group())
        layout.addWidget(self._audio_group())
        layout.addWidget(self._midi_group())
        self._align_label_columns()
        self.restart_note = QLabel(_("The new language applies the next time you start Hookline."))
        self.restart_note.setWordWrap(True)
        self.restart_note.setVisible(False)
        layout.addWidget(self.restart_note)
        layout.addStretch(1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    # -- building ---------------------------------------------------------------------------

    def _form(self, group: QGroupBox) -> QFormLayout:
        form = QFormLayout(group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.forms.append(form)
        return form

    def _align_label_columns(self) -> None:
        """Give the three groups one label column, so their fields line up."""
        labels = [
            form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            for form in self.forms
            for row in range(form.rowCount())
        ]
        widgets = [w for w in (item.widget() for item in labels if item is not None) if w]
        width = max((w.sizeHint().width() for w in widgets), default=0)
        for widget in widgets:
            widget.setMinimumWidth(width)

    def _register(self, key: str, widget: QWidget) -> QWidget:
        widget.setToolTip(_(OPTIONS_BY_KEY[key].description))
        widget.setWhatsThis(_(OPTIONS_BY_KEY[key].description))
        self.fields[key] = widget
        return widget

    def _interface_group(self) -> QGroupBox:
        group = QGroupBox(_("Interface"))
        form = self._form(group)
        languages: list[tuple[str, Value]] = [(_("System language"), "auto")]
        languages += [(name, code) for code, name in LANGUAGES.items()]
        language = _combo(languages, self.settings.get("ui.language"))
        language.currentIndexChanged.connect(self._language_changed)
        form.addRow(_("Language:"), self._register("ui.language", language))
        theme = _combo([(_("Dark"), "dark"), (_("Light"), "light")], self.settings.get("ui.theme"))
        form.addRow(_("Theme:"), self._register("ui.theme", theme))
        return group

    def _audio_group(self) -> QGroupBox:
        group = QGroupBox(_("Audio"))
        form = self._form(group)
        inputs = hardware.audio_inputs()
        items = input_device_choices(inputs)
        form.addRow(
            _("Input device:"),
            self._register(
                "audio.input_device", _combo(items, self.settings.get("audio.input_device"))
            ),
        )
        self.audio_note = _note()
        if inputs.error:
            self.audio_note.setText(
                _("Audio is unavailable ({reason}); Hookline will use the demo input.").format(
                    reason=inputs.error
                )
            )
        elif not inputs.names:
            self.audio_note.setText(
                _("No audio input was found; Hookline will use the demo input.")
            )
        self.audio_note.setVisible(bool(self.audio_note.text()))
        form.addRow("", self.audio_note)

        monitor_items: list[tuple[str, Value]] = [(_("No monitor output"), "")]
        monitor_items += [(name, name) for name in inputs.output_names]
        form.addRow(
            _("Monitor output:"),
            self._register(
                "audio.monitor_device",
                _combo(monitor_items, self.settings.get("audio.monitor_device")),
            ),
        )

        preview_items: list[tuple[str, Value]] = [(_("System default output"), "")]
        preview_items += [(name, name) for name in inputs.output_names]
        form.addRow(
            _("Preview output:"),
            self._register(
                "audio.output_device",
                _combo(preview_items, self.settings.get("audio.output_device")),
            ),
        )

        rates = OPTIONS_BY_KEY["audio.sample_rate"].choices or ()
        rate_items: list[tuple[str, Value]] = [
            (_("{rate} Hz").format(rate=format_decimal(int(r))), r) for r in rates
        ]
        form.addRow(
            _("Sample rate:"),
            self._register(
                "audio.sample_rate", _combo(rate_items, self.settings.get("audio.sample_rate"))
            ),
        )
        block_items: list[tuple[str, Value]] = [
            (ngettext("{count} frame", "{count} frames", n).format(count=format_decimal(n)), n)
            for n in BLOCK_SIZES
        ]
        form.addRow(
            _("Block size:"),
            self._register(
                "audio.block_size", _combo(block_items, self.settings.get("audio.block_size"))
            ),
        )

        option = OPTIONS_BY_KEY["audio.reference_a"]
        reference = QDoubleSpinBox()
        reference.setRange(option.minimum or 415.0, option.maximum or 466.0)
        reference.setDecimals(1)
        reference.setSingleStep(0.5)
        reference.setSuffix(" " + _("Hz"))
        reference.setValue(float(self.settings.get("audio.reference_a")))
        form.addRow(_("Reference A4:"), self._register("audio.reference_a", reference))
        return group

    def _midi_group(self) -> QGroupBox:
        group = QGroupBox(_("MIDI"))
        form = self._form(group)
        api_items: list[tuple[str, Value]] = [
            (_("Automatic") if key == "auto" else name, key) for key, name in MIDI_APIS.items()
        ]
        api = _combo(api_items, self.settings.get("midi.api"))
        api.currentIndexChanged.connect(self._refresh_midi_ports)
        form.addRow(_("MIDI system:"), self._register("midi.api", api))
        self.midi_input = QComboBox()
        self.midi_output = QComboBox()
        form.addRow(_("MIDI input port:"), self._register("midi.input_port", self.midi_input))
        form.addRow(_("MIDI output port:"), self._register("midi.output_port", self.midi_output))
        self.midi_note = _note()
        form.addRow("", self.midi_note)
        self._refresh_midi_ports()
        return group

    def _refresh_midi_ports(self) -> None:
        api = str(self._value("midi.api"))
        ports = hardware.list_midi(api)
        for combo, key, first, names in (
            (self.midi_input, "midi.input_port", _("No MIDI input"), ports.inputs),
            (self.midi_output, "midi.output_port", _("Hookline's own port"), ports.outputs),
        ):
            current = combo.currentData() if combo.count() else self.settings.get(key)
            fill_choices(combo, [(first, ""), *((n, n) for n in names)], current)
        if ports.error:
            self.midi_note.setText(
                _("MIDI is unavailable on {api}: {reason}").format(
                    api=MIDI_APIS.get(ports.api, ports.api), reason=ports.error
                )
            )
        else:
            self.midi_note.setText("")
        self.midi_note.setVisible(bool(ports.error))

    def _language_changed(self) -> None:
        self.restart_note.setVisible(self._value("ui.language") != self.settings.get("ui.language"))

    # -- reading and writing ------------------------------------------------------------------

    def _value(self, key: str) -> Any:
        widget = self.fields[key]
        if isinstance(widget, QComboBox):
            return widget.currentData()
        if isinstance(widget, QDoubleSpinBox):
            return round(widget.value(), 1)
        raise TypeError(key)

    def values(self) -> dict[str, Value]:
        """What the dialog shows now, as setting values."""
        return {key: self._value(key) for key in self.fields}

    def apply(self) -> list[str]:
        """Write changed values into the settings and save them; returns the changed keys."""
        changed = {
            key: value for key, value in self.values().items() if value != self.settings.get(key)
        }
        for key, value in changed.items():  # all or nothing: validate before changing any
            OPTIONS_BY_KEY[key].validate(value)
        for key, value in changed.items():
            self.settings.set(key, value)
        if changed:
            self.settings.save()
            log.info("settings changed: %s", ", ".join(changed))
        return list(changed)

    def accept(self) -> None:
        try:
            self.changed_keys = self.apply()
        except ValueError as exc:
            show_message(
                self,
                QMessageBox.Icon.Warning,
                _("Settings"),
                _("This value cannot be used: {reason}").format(reason=str(exc)),
            )
            return
        except OSError as exc:
            log.exception("could not save the settings")
            show_message(
                self.parentWidget(),
                QMessageBox.Icon.Warning,
                _("Settings"),
                _("Your settings apply now but could not be saved to {path}: {reason}").format(
                    path=self.settings.path, reason=exc.strerror or str(exc)
                ),
            )
        super().accept()
