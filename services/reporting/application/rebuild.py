"""A rebuild's processes: projecting processes read the streams and validate and project
each batch, a writing process applies it in one transaction; this one only takes turns.

One process cannot keep up, and on two cores neither can a pipeline whose reader hands
every body to a projector through a pipe. Over 1,000,000 events a separate reader cost
about 9 µs of CPU an event (8 µs more than it saved), the projection 21, writing 14, the
broker 5 (`fpb bench`). So each projecting process reads its own batches from the
broker, and projecting, the longest stage, runs in as many processes as there are
`projectors`.

Batches stay in stream order without any sorting: one pull request is out at a time, so
each holds the messages after the previous one's. This process tells the projectors to
pull in turn (the next as soon as the previous one's batch has arrived), and the writer
takes their batches back in that same turn. The writer reports every batch it wrote, and
no more pulls go out while enough are unwritten, so memory stays bounded whatever the
streams' length.

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
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from types import ModuleType

from services.reporting.adapters.read_models import ReadModelStore
from shared.messaging.replay import ReplayedMessage, ReplaySource, StreamReader

ProjectBatch = Callable[[list[ReplayedMessage]], list]  # importable by name: the projectors run it


class RebuildFailed(RuntimeError):
    pass


class RebuildPipeline:
    """Use as a context manager: `replay` each source, then `finish`."""

    def __init__(self, read_models_url: str, nats_url: str, readable_messages: ProjectBatch, projectors: int = 1, batch: int = 2000) -> None:
        self.read_models_url, self.nats_url, self.readable_messages = read_models_url, nats_url, readable_messages
        self.projectors, self.batch = projectors, batch
        # Unwritten batches at most: one at each projector, one at the writer, two in pipes.
        self.batches_in_flight = projectors + 3
        self.replayed = 0  # messages written (or found unreadable and skipped)
        self.cpu_seconds: dict[str, float] = {}  # each process's CPU time, once finished
        self.peak_rss_mib: dict[str, float] = {}  # and its peak resident memory
        self._unwritten = 0
        self._turn = 0
        self._pulled: int | None = None  # what the last pull brought, once it has arrived
        self._finishing = False

    def __enter__(self) -> RebuildPipeline:
        context = get_context("spawn")
        self._to_projectors, self._reports, writer_inboxes, children_ends = [], [], [], []
        self._processes = []
        for number in range(1, self.projectors + 1):
            commands, to_projector = context.Pipe(duplex=False)
            report, reports_out = context.Pipe(duplex=False)
            writer_inbox, to_writer = context.Pipe(duplex=False)
            self._to_projectors.append(to_projector)
            self._reports.append(report)
            writer_inboxes.append(writer_inbox)
            children_ends += [commands, reports_out, to_writer, writer_inbox]
            self._processes.append(context.Process(
                target=_project_batches,
                args=(f"projector-{number}", self.nats_url, self.readable_messages, commands, reports_out, to_writer),
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
        for connection in (self._progress, *self._reports):
            connection.close()

    async def replay(self, source: ReplaySource, progress: Callable[[], object] = lambda: None) -> None:
        """Have the source's messages pulled, a batch by each projector in turn; `progress`
        is called as batches arrive (`replayed` counts those written)."""
        remaining = source.expected
        while remaining > 0:
            while self._unwritten >= self.batches_in_flight:
                await self._take_progress()
            self._pulled = None
            self._send(self._to_projectors[self._turn % self.projectors], ("pull", source.next_subject, min(self.batch, remaining)))
            self._unwritten += 1
            self._turn += 1
            while self._pulled is None:  # the next pull waits for this batch to arrive
                await self._take_progress()
            remaining -= self._pulled
            progress()

    async def finish(self) -> int:
        """Wait for every batch pulled to be written; how many messages they held."""
        for to_projector in self._to_projectors:
            self._send(to_projector, ("end",))
        self._finishing = True  # the projectors close their reports now: only the writer's count
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
        for connection in (*self._reports, self._progress):
            try:
                while connection.poll(1):
                    kind, *detail = connection.recv()
                    if kind == "failed":
                        return RebuildFailed(detail[0])
            except (EOFError, OSError):
                pass
        return RebuildFailed(otherwise)

    async def _take_progress(self) -> str:
        """The next report of any child: a batch pulled, a batch written, a failure, the end.
        (Waited for in a thread: a send from the event loop waits only for a pipe.)"""
        ready = await asyncio.to_thread(wait, [self._progress] if self._finishing else [self._progress, *self._reports])
        connection = ready[0]
        try:
            kind, *detail = connection.recv()
        except EOFError:
            who = "writing" if connection is self._progress else "projecting"
            raise self._failure(f"the rebuild's {who} process ended unexpectedly (its pipe closed without a word)") from None
        if kind == "failed":
            raise RebuildFailed(detail[0])
        if kind == "pulled":
            self._pulled = detail[0]
        elif kind == "written":
            self.replayed += detail[0]
            self._unwritten -= 1
        elif kind == "end":
            self.cpu_seconds = {name: cpu for name, (cpu, _) in detail[0].items()}
            self.peak_rss_mib = {name: rss for name, (_, rss) in detail[0].items()}
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


def _project_batches(name: str, nats_url: str, readable_messages: ProjectBatch, commands: Connection, reports: Connection, to_writer: Connection) -> None:
    """Pull a batch when told to, say it has arrived (the next projector may pull), then
    project it for the writer."""
    reader = None
    try:
        reader = StreamReader.open(nats_url)
        _collect_garbage_rarely()
        while (command := commands.recv())[0] == "pull":
            _, next_subject, size = command
            messages = reader.pull(next_subject, size)
            reports.send(("pulled", len(messages)))
            to_writer.send(("batch", len(messages), readable_messages(messages)))
        to_writer.send(("end", {name: _usage()}))
    except (EOFError, BrokenPipeError):
        pass  # this process's coordinator or the writer stopped (the rebuild failed): so does this one
    except Exception as error:  # noqa: BLE001 - reported to the coordinator, which raises it
        _report(reports, f"projecting a batch failed: {type(error).__name__}: {error}")
    finally:
        if reader is not None:
            reader.close()


def _write_batches(read_models_url: str, inboxes: list[Connection], progress: Connection) -> None:
    """Takes the projectors' batches in the turn they pulled them, so in stream order."""
    read_models = None
    usage: dict[str, tuple[float, float]] = {}
    try:
        read_models = ReadModelStore(read_models_url)
        _collect_garbage_rarely()
        for turn in itertools.count():
            if len(usage) == len(inboxes):
                progress.send(("end", {**usage, "writer": _usage()}))
                return
            message = inboxes[turn % len(inboxes)].recv()
            if message[0] == "end":
                usage |= message[1]
                continue
            _, count, messages = message
            read_models.apply_plain(messages)
            progress.send(("written", count))
    except (EOFError, BrokenPipeError):
        pass
    except Exception as error:  # noqa: BLE001 - reported to the coordinator, which raises it
        _report(progress, f"writing a batch failed: {type(error).__name__}: {error}")
    finally:
        if read_models is not None:
            read_models.close()


def _usage() -> tuple[float, float]:
    """This process's CPU seconds so far, and its peak resident memory in MiB."""
    return time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _report(to: Connection, failure: str) -> None:
    with suppress(OSError):  # nobody left to tell: the coordinator sees the pipe close
        to.send(("failed", failure))
