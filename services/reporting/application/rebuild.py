"""A rebuild's processes: this one reads the streams, a projecting process validates and
projects each batch, a writing process applies it in one transaction.

One process cannot keep up. Over 1,000,000 events, each event cost about 8 µs of CPU to
read, 24 to validate and project, 16 to write, and 7 in the broker (`fpb bench`), on two
cores. So each stage has its own process, and batches flow through pipes in the order
read: reader → projector → writer. The writer reports every batch it wrote, and the
reader hands over a new batch only while few enough are unwritten, so
memory stays bounded whatever the streams' length.

Changes travel as plain tuples (Change.plain()), which pickle three times cheaper than
the dataclasses. The children are spawned (not forked from a service with threads and an
event loop), and their garbage collector runs less often: a batch's thousands of
short-lived objects made it run often, each time walking every long-lived object, which
cost a third of their time (measured by turning it off).
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from multiprocessing import get_context
from multiprocessing.connection import Connection
from types import ModuleType

from services.reporting.adapters.read_models import ReadModelStore

Body = tuple[bytes, str, int]  # a message's body, stream and stream sequence
ProjectBatch = Callable[[list[Body]], list]  # importable by name: the projectors run it


class RebuildFailed(RuntimeError):
    pass


class RebuildPipeline:
    """Use as a context manager: `hand_over` each batch read, then `finish`."""

    def __init__(self, read_models_url: str, readable_messages: ProjectBatch, projectors: int = 1) -> None:
        """Projecting is the longest stage: with more cores, `projectors` take batches in
        turn. On two cores one did as well as two (the reader, the writer and the broker
        share them), with 15% less CPU in all."""
        self.read_models_url, self.readable_messages, self.projectors = read_models_url, readable_messages, projectors
        # Unwritten batches at most: one at each projector, one at the writer, two in pipes.
        self.batches_in_flight = projectors + 3
        self.replayed = 0  # messages written (or found unreadable and skipped)
        self.cpu_seconds: dict[str, float] = {}  # each process's CPU time, once finished
        self._unwritten = 0
        self._handed_over = 0

    def __enter__(self) -> RebuildPipeline:
        context = get_context("spawn")
        self._to_projectors, writer_inboxes, children_ends = [], [], []
        self._processes = []
        for number in range(1, self.projectors + 1):
            projector_inbox, to_projector = context.Pipe(duplex=False)
            writer_inbox, to_writer = context.Pipe(duplex=False)
            self._to_projectors.append(to_projector)
            writer_inboxes.append(writer_inbox)
            children_ends += [projector_inbox, to_writer, writer_inbox]
            self._processes.append(context.Process(
                target=_project_batches, args=(f"projector-{number}", self.readable_messages, projector_inbox, to_writer),
                name=f"rebuild-projector-{number}", daemon=True,
            ))
        self._progress, progress_out = context.Pipe(duplex=False)
        children_ends.append(progress_out)
        self._processes.append(context.Process(target=_write_batches, args=(self.read_models_url, writer_inboxes, progress_out), name="rebuild-writer", daemon=True))
        with _parent_main_hidden():
            for process in self._processes:
                process.start()
        for end in children_ends:  # the children's ends are theirs alone now, so a child
            end.close()  # that dies closes its pipes and the other side sees it
        return self

    def __exit__(self, *_: object) -> None:
        for to_projector in self._to_projectors:
            to_projector.close()
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():  # the rebuild failed on this side: nothing more to wait for
                process.terminate()
                process.join()
        self._progress.close()

    async def hand_over(self, bodies: list[Body]) -> None:
        """Batches go to the projectors in turn; the writer takes them back in that turn.

        Sent from the event loop, not a thread: a send waits at most for the projector to
        take the batch, and pickling in a thread beside the loop cost this process a third
        more CPU (the two contend for the GIL)."""
        while self._unwritten >= self.batches_in_flight:
            await self._take_progress()
        self._unwritten += 1
        self._send(self._to_projectors[self._handed_over % self.projectors], ("batch", bodies))
        self._handed_over += 1

    async def finish(self) -> int:
        """Wait for every batch handed over to be written; how many messages they held."""
        for to_projector in self._to_projectors:
            self._send(to_projector, ("end",))
        while await self._take_progress() != "end":
            pass
        return self.replayed

    def _send(self, to_projector: Connection, message: tuple) -> None:
        try:
            to_projector.send(message)
        except OSError:  # the projector is gone: say why, if it said
            raise self._failure("a rebuild's projecting process ended unexpectedly") from None

    def _failure(self, otherwise: str) -> RebuildFailed:
        """What a child reported before it stopped, else `otherwise`."""
        try:
            while self._progress.poll(1):
                kind, *detail = self._progress.recv()
                if kind == "failed":
                    return RebuildFailed(detail[0])
        except EOFError:
            pass
        return RebuildFailed(otherwise)

    async def _take_progress(self) -> str:
        try:
            kind, *detail = await asyncio.to_thread(self._progress.recv)
        except EOFError:
            raise RebuildFailed("the rebuild's writing process ended unexpectedly (its pipe closed without a word)") from None
        if kind == "failed":
            raise RebuildFailed(detail[0])
        if kind == "written":
            self.replayed += detail[0]
            self._unwritten -= 1
        if kind == "end":
            self.cpu_seconds = detail[0]
        return kind


@contextmanager
def _parent_main_hidden() -> Iterator[None]:
    """Spawn runs the parent's __main__ again in each child, in case it defines what the
    child is to run. Ours is importable by name, while the parent's main (the CLI, a
    benchmark) imports the whole platform: over a second of each child's CPU, measured."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _collect_garbage_rarely() -> None:
    gc.freeze()  # what the process imported and built so far is never garbage
    gc.set_threshold(100_000, 50, 1000)


def _project_batches(name: str, readable_messages: ProjectBatch, inbox: Connection, to_writer: Connection) -> None:
    _collect_garbage_rarely()
    try:
        while (message := inbox.recv())[0] == "batch":
            bodies = message[1]
            to_writer.send(("batch", len(bodies), readable_messages(bodies)))
        to_writer.send(("end", {name: time.process_time()}))
    except (EOFError, BrokenPipeError):
        pass  # the reader or the writer stopped (the rebuild failed): so does this process
    except Exception as error:  # noqa: BLE001 - reported to the reader, which raises it
        _report(to_writer, f"projecting a batch failed: {type(error).__name__}: {error}")


def _write_batches(read_models_url: str, inboxes: list[Connection], progress: Connection) -> None:
    """Takes the projectors' batches in the turn they were handed to them, so in the order read."""
    read_models = None
    cpu_seconds: dict[str, float] = {}
    try:
        read_models = ReadModelStore(read_models_url)
        _collect_garbage_rarely()
        for turn in itertools.count():
            if len(cpu_seconds) == len(inboxes):
                progress.send(("end", {**cpu_seconds, "writer": time.process_time()}))
                return
            message = inboxes[turn % len(inboxes)].recv()
            if message[0] == "failed":
                progress.send(message)
                return
            if message[0] == "end":
                cpu_seconds |= message[1]
                continue
            _, count, messages = message
            read_models.apply_plain(messages)
            progress.send(("written", count))
    except (EOFError, BrokenPipeError):
        pass
    except Exception as error:  # noqa: BLE001 - reported to the reader, which raises it
        _report(progress, f"writing a batch failed: {type(error).__name__}: {error}")
    finally:
        if read_models is not None:
            read_models.close()


def _report(to: Connection, failure: str) -> None:
    with suppress(OSError):  # nobody left to tell: the reader sees the pipe close
        to.send(("failed", failure))
