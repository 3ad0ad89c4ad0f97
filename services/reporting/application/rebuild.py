"""A rebuild's processes: each projecting process reads a batch from the broker,
validates and projects it, and writes it in one transaction; this one only takes turns.

One process cannot keep up. Over 1,000,000 events on two cores, each event costs about
3 µs of CPU to read, 16 to validate and project, 9 to write, and 4 in the broker (`fpb
bench`). A pipeline of processes passing each batch on (reader → projector → writer)
spent about as much again on pickling, pipes and switching between processes, so each
projecting process does all three, and several of them take batches in turn.

Batches stay in stream order without any sorting:
- one pull request is out at a time, so each batch holds the messages after the previous
  one's: this process tells the projectors to pull in turn, the next as soon as the
  previous one's batch has arrived;
- a projector writes its batch only when the batch before it has been written (a turn
  counter shared by the projectors).
So reading and writing go in turn while projecting, the longest part, overlaps. Each
projector holds one batch at most, so memory stays bounded whatever the streams' length.

The children are spawned (not forked from a service with threads and an event loop), and
their garbage collector runs less often: a batch's thousands of short-lived objects made
it run often, each time walking every long-lived object, which cost a third of their
time (measured by turning it off).
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from multiprocessing import get_context, parent_process
from multiprocessing.connection import Connection, wait
from multiprocessing.synchronize import Condition
from types import ModuleType
from typing import Any

from services.reporting.adapters.read_models import ReadModelStore
from shared.messaging.credentials import NatsCredentials
from shared.messaging.replay import ReplayedMessage, ReplaySource, StreamReader

ProjectBatch = Callable[[list[ReplayedMessage]], list]  # importable by name: the projectors run it


class RebuildFailed(RuntimeError):
    pass


class RebuildPipeline:
    """Use as a context manager: `replay` each source, then `finish`."""

    def __init__(self, read_models_url: str, nats_url: str, readable_messages: ProjectBatch, projectors: int = 2, batch: int = 2000,
                 credentials: NatsCredentials | None = None) -> None:
        self.read_models_url, self.nats_url, self.readable_messages = read_models_url, nats_url, readable_messages
        self.credentials = credentials  # the projectors' replay connections authenticate as this NATS user
        self.projectors, self.batch = projectors, batch
        self.replayed = 0  # messages written (or found unreadable and skipped)
        self.cpu_seconds: dict[str, float] = {}  # each process's CPU time, once finished
        self.peak_rss_mib: dict[str, float] = {}  # and its peak resident memory
        self._turn = 0  # the next batch's place in the order
        self._pulled: int | None = None  # what the last pull brought, once it has arrived
        self._finished = False

    def __enter__(self) -> RebuildPipeline:
        context = get_context("spawn")
        # Batches written so far, guarded by the condition. Held here until the children
        # have started: they unpickle them by name, which must still exist then.
        self._written_turn = written_turn = context.Value("q", 0, lock=False)
        self._turn_taken = turn_taken = context.Condition()
        self._to_projectors, self._reports, self._processes, children_ends = [], [], [], []
        for number in range(1, self.projectors + 1):
            commands, to_projector = context.Pipe(duplex=False)
            report, reports_out = context.Pipe(duplex=False)
            self._to_projectors.append(to_projector)
            self._reports.append(report)
            self._processes.append(context.Process(
                target=_project_batches,
                args=(f"projector-{number}", self.nats_url, self.read_models_url, self.readable_messages, commands, reports_out, written_turn, turn_taken, self.credentials),
                name=f"rebuild-projector-{number}", daemon=True,
            ))
            children_ends += [commands, reports_out]
        with _parent_main_hidden():
            for process in self._processes:
                process.start()
        for end in children_ends:  # the children's ends are theirs alone now, so a child
            end.close()  # that dies closes its pipes and this side sees it
        self._awaited = list(self._reports)  # the reports of projectors that have not ended
        return self

    def __exit__(self, *_: object) -> None:
        for to_projector in self._to_projectors:
            to_projector.close()  # a projector waiting for a command stops
        for process in self._processes:
            if self._finished:
                process.join(timeout=10)
            if process.is_alive():  # the rebuild failed: a projector may wait for a turn that never comes
                process.terminate()
                process.join()
        for report in self._reports:
            report.close()

    async def replay(self, source: ReplaySource, progress: Callable[[], object] = lambda: None) -> None:
        """Have the source's messages pulled, a batch by each projector in turn; `progress`
        is called as batches arrive (`replayed` counts those written)."""
        remaining = source.expected
        while remaining > 0:
            self._pulled = None
            size = min(self.batch, remaining)
            self._send(self._to_projectors[self._turn % self.projectors], ("pull", source.next_subject, size, self._turn))
            self._turn += 1
            while self._pulled is None:  # the next pull waits for this batch to arrive
                await self._take_progress()
            remaining -= self._pulled
            progress()

    async def finish(self) -> int:
        """Wait for every batch pulled to be written; how many messages they held."""
        for to_projector in self._to_projectors:
            self._send(to_projector, ("end",))
        while len(self.cpu_seconds) < self.projectors:
            await self._take_progress()
        self._finished = True
        return self.replayed

    def _send(self, to_projector: Connection, message: tuple) -> None:
        try:
            to_projector.send(message)
        except OSError:  # the projector is gone: say why, if it said
            raise self._failure("a rebuild's projecting process ended unexpectedly") from None

    def _failure(self, otherwise: str) -> RebuildFailed:
        """What a projector reported before it stopped, else `otherwise`."""
        for report in self._reports:
            try:
                while report.poll(1):
                    kind, *detail = report.recv()
                    if kind == "failed":
                        return RebuildFailed(detail[0])
            except (EOFError, OSError):
                pass
        return RebuildFailed(otherwise)

    async def _take_progress(self) -> None:
        """The next report of any projector: a batch pulled, a batch written, a failure,
        its end. (Waited for in a thread: a send from the event loop waits only for a pipe.)"""
        report = (await asyncio.to_thread(wait, self._awaited))[0]
        try:
            kind, *detail = report.recv()
        except EOFError:
            self._awaited.remove(report)
            raise self._failure("a rebuild's projecting process ended unexpectedly (its pipe closed without a word)") from None
        if kind == "failed":
            raise RebuildFailed(detail[0])
        if kind == "pulled":
            self._pulled = detail[0]
        elif kind == "written":
            self.replayed += detail[0]
        elif kind == "end":
            self._awaited.remove(report)  # it closes its pipe now
            [(name, (cpu, rss))] = detail[0].items()
            self.cpu_seconds[name], self.peak_rss_mib[name] = cpu, rss


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


def _project_batches(
    name: str, nats_url: str, read_models_url: str, readable_messages: ProjectBatch,
    commands: Connection, reports: Connection, written_turn: Any, turn_taken: Condition,
    credentials: NatsCredentials | None = None,
) -> None:
    """Pull a batch when told to and say it has arrived (the next projector may pull),
    project it, and write it once the batch before it is written."""
    reader = read_models = None
    doing = "connecting to the broker"
    try:
        reader = StreamReader.open(nats_url, credentials=credentials)
        doing = "opening the read models"
        read_models = ReadModelStore(read_models_url)
        _collect_garbage_rarely()
        while (command := commands.recv())[0] == "pull":
            _, next_subject, size, turn = command
            doing = "reading a batch"
            messages = reader.pull(next_subject, size)
            reports.send(("pulled", len(messages)))
            doing = "projecting a batch"
            projected = readable_messages(messages)
            doing = "writing a batch"
            _wait_for_turn(turn, written_turn, turn_taken)
            read_models.apply_plain(projected)
            with turn_taken:
                written_turn.value = turn + 1
                turn_taken.notify_all()
            reports.send(("written", len(messages)))
        reports.send(("end", {name: _usage()}))
    except (EOFError, BrokenPipeError):
        pass  # the coordinator stopped (the rebuild failed elsewhere): so does this process
    except Exception as error:  # noqa: BLE001 - reported to the coordinator, which raises it
        with suppress(OSError):  # nobody left to tell: the coordinator sees the pipe close
            reports.send(("failed", f"the rebuild's {name} failed {doing}: {type(error).__name__}: {error}"))
    finally:
        if reader is not None:
            reader.close()
        if read_models is not None:
            read_models.close()


def _wait_for_turn(turn: int, written_turn: Any, turn_taken: Condition) -> None:
    """Until every batch before this one is written; EOFError if the coordinator is gone
    (killed: then nobody ends the rebuild, and this process must not wait forever)."""
    with turn_taken:
        while not turn_taken.wait_for(lambda: written_turn.value == turn, timeout=1):
            if not parent_process().is_alive():
                raise EOFError("the rebuild's coordinator is gone")


def _usage() -> tuple[float, float]:
    """This process's CPU seconds so far, and its peak resident memory in MiB: the
    kernel's high-water mark of this address space (getrusage's ru_maxrss would carry
    the parent's peak over the exec that spawned this process)."""
    with open("/proc/self/status") as status:
        peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    return time.process_time(), peak_kib / 1024
