"""Thousands of signal deliveries, direct and queued across threads, all arrive.

PySide6 6.12.0 on CPython 3.11 released one reference to ``True`` too many per slot call and
aborted the process (``Fatal Python error: bool_dealloc``) after a few hundred signals (see
TEST-STACK.md). Python 3.11's ``True`` is not immortal, so its reference count shows the bug
long before the abort: the count must not fall while signals are delivered.
"""

from __future__ import annotations

import sys
import threading

from PySide6.QtCore import QObject, Signal, Slot
from pytestqt.qtbot import QtBot

COUNT = 10_000


class Sender(QObject):
    number = Signal(int)
    flag = Signal(bool)


class Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.numbers: list[int] = []
        self.flags = 0
        self.threads: set[int] = set()

    @Slot(int)
    def on_number(self, value: int) -> None:
        self.numbers.append(value)
        self.threads.add(threading.get_ident())

    @Slot(bool)
    def on_flag(self, value: bool) -> bool:
        self.flags += value
        return True


def test_direct_signals_all_arrive_and_true_keeps_its_references() -> None:
    sender, receiver = Sender(), Receiver()
    sender.number.connect(receiver.on_number)
    sender.flag.connect(receiver.on_flag)
    refs_before = sys.getrefcount(True)
    for i in range(COUNT):
        sender.number.emit(i)
        sender.flag.emit(True)
    refs_after = sys.getrefcount(True)
    assert receiver.numbers == list(range(COUNT))
    assert receiver.flags == COUNT
    assert refs_after >= refs_before - 100, (refs_before, refs_after)


def test_queued_signals_from_a_thread_all_arrive_in_order(qtbot: QtBot) -> None:
    sender, receiver = Sender(), Receiver()  # both live on the main thread
    sender.number.connect(receiver.on_number)  # auto: queued when emitted from another thread
    sender.flag.connect(receiver.on_flag)
    refs_before = sys.getrefcount(True)

    def produce() -> None:
        for i in range(COUNT):
            sender.number.emit(i)
            sender.flag.emit(True)

    worker = threading.Thread(target=produce, name="signal-flood")
    worker.start()
    worker.join()
    qtbot.waitUntil(
        lambda: len(receiver.numbers) == COUNT and receiver.flags == COUNT, timeout=30_000
    )
    assert receiver.numbers == list(range(COUNT))
    assert receiver.threads == {threading.get_ident()}  # slots ran on the main thread
    assert sys.getrefcount(True) >= refs_before - 100
