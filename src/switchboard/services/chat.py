"""One chat turn: question in, answer streamed, and the answer saved however it ends.

The order of writes is what makes "an answer is never lost" hold:

1. ``start_turn`` checks everything that needs no network (model, key, images,
   ownership), then, in ONE transaction, writes the user message and a placeholder
   answer (status ``partial``, error "in progress") and, for a first message, the
   conversation. The placeholder gives the answer its id up front (the ``start`` event
   carries it) and leaves a truthful trace if the process is killed outright.
2. The model's events flow through ``metered()``, which hands exactly one outcome to
   ``Turn.on_done`` however the stream ends: finished, failed before the first byte or
   midway, the client gone (the stop button), the server shutting down.
   While it streams, ``AnswerProgress`` saves the parts said so far every second, so a
   process killed outright leaves them behind, and the next start closes the answer
   with the reason "interrupted by a crash" (``services.answer_progress``).
3. ``on_done`` runs synchronously, possibly during cancellation, so it only queues the
   usage event (``UsageRecorder``) and *spawns* the final write as a tracked task (the
   server drains those at shutdown). That write fills the placeholder with text, parts,
   tokens, cost, latency, ttft, finish reason and status ``complete``/``partial``/
   ``error`` plus the reason, and bumps the conversation — in ONE transaction.

An upstream failure before the first byte leaves an ``error`` answer row (the question
stays answered by "what went wrong", and ``regenerate`` retries it), and the caller gets
the error with its HTTP status.

An image model (decision 0141) answers a turn with pictures instead of words: the
question's text is the prompt, ``Pipeline.images`` draws (admitted, metered once, as
``/v1/images/generations``), the pictures are kept in the file store and the answer's
parts reference them (``services.message_files``); the turn is saved the same way.

Messages form a tree (``services.message_tree``): a new question follows the branch the
conversation shows; ``regenerate`` adds a sibling of the last answer and ``edit_of`` a
sibling of an earlier question, so every earlier version is kept. The conversation's leaf
moves to the new answer when the turn starts; a regenerate that fails outright deletes
its empty answer and gives the leaf back to the answer that was shown.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from switchboard.db import Database, utcnow
from switchboard.db import models as m
from switchboard.registry import Registry, ResolvedModel
from switchboard.services import files, flags
from switchboard.services.answer_progress import AnswerProgress
from switchboard.services.attachments import ReadFile, read_attachment
from switchboard.services.auto.picker import AutoPick, auto_tier
from switchboard.services.auto.route import AutoRouter, preview_turn, turn_of
from switchboard.services.auto.tasks import classify
from switchboard.services.captions import (
    describe_images,
    has_images,
    image_handling,
    vision_model,
)
from switchboard.services.chat_history import (
    StoredMessage,
    build_history,
    dump_parts,
    model_parts,
    reads_pdfs,
    text_of,
)
from switchboard.services.chat_input import (
    ChatInput,
    FileInput,
    ImageInput,
    choose_model,
    resolve_enabled,
)
from switchboard.services.conversations import (
    ConversationView,
    MessageView,
    load_conversation_view,
    load_message_views,
    load_tree,
    owned_conversation,
    remembered_tools,
)
from switchboard.services.errors import ValidationFailed
from switchboard.services.file_bytes import FileRoot
from switchboard.services.grade_votes import record_regenerate
from switchboard.services.message_files import (
    ImageKept,
    inline_files,
    keep_answer_images,
    keep_file,
    keep_image,
    keep_pictures,
    reference,
    resolve,
)
from switchboard.services.metering import CallOutcome, failed_outcome
from switchboard.services.pipeline import Imaged, OpenCall, Pipeline
from switchboard.services.policy import CallSpec
from switchboard.services.principal import Principal
from switchboard.services.titles import suggest_title
from switchboard.services.tools.contract import ToolContext
from switchboard.services.tools.driver import LoopHooks, LoopLimit, ToolLoop, pictures_message
from switchboard.services.tools.loop import (
    APPROVAL_WAIT,
    ApprovalGiven,
    ApprovalNeeded,
    LoopEvent,
    StepRun,
    ToolStep,
    TurnTools,
    TurnToolSource,
    default_cost_cap,
)
from switchboard.services.tools.steps import save_step, set_note
from switchboard.services.usage import UsageRecorder
from switchboard.spec import (
    ChatRequest,
    ChatResult,
    Collector,
    FinishReason,
    GeneratedImage,
    ImageOutput,
    ImagePart,
    ImageRequest,
    Message,
    ProviderError,
    StreamEvent,
    StreamStart,
    SwitchboardError,
    TextPart,
    ToolCallPart,
)
from switchboard.spec.image import sniff_media_type

log = logging.getLogger("switchboard.chat")

TITLE_LENGTH = 60
IN_PROGRESS = "in progress"
WAITING = "waiting for your approval"
"""The note of an answer whose tool loop waits for the user (decision 0104): it is still
being written, as "in progress"."""


def being_written(status: str, error: str | None) -> bool:
    """Is this saved answer still being written (in progress, or waiting for approval)?"""
    return status == "partial" and (error == IN_PROGRESS
                                    or (error or "").startswith(WAITING))
STOPPED = "stopped"
INTERRUPTED = "interrupted: the server stopped before the answer was finished"

Spawn = Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]


@dataclass(frozen=True, slots=True)
class ChatDeps:
    """What a turn needs from the process: the database, the usage recorder, a way to
    run the final write as a task that shutdown waits for, and where answers in progress
    are saved every second (None: only the final save)."""

    db: Database
    usage: UsageRecorder
    spawn: Spawn
    pipeline: Pipeline
    """The process's call pipeline: admission, routing, fallbacks, metering."""
    progress: AnswerProgress | None = None
    auto_titles: bool = True
    file_root: FileRoot | None = None
    """The file store (directory or database, decision 0171): images in messages are
    kept there and referenced (None: they stay inline in the row, as before the store;
    decision 0141)."""
    toolbox: TurnToolSource | None = None
    """Where a turn's ``tools`` come from (None: this process offers no tools)."""
    budget_timezone: str = "UTC"
    """For the tool loop's default cost cap (the budgets' periods)."""


@dataclass(frozen=True, slots=True)
class Saved:
    """How a turn ended, once its answer is written. ``message`` is None when nothing
    was kept (a regenerate that failed outright; the conversation deleted meanwhile)."""

    status: str  # complete | partial | error
    message: MessageView | None
    conversation: ConversationView | None
    error: SwitchboardError | None
    reason: str | None
    warnings: list[str] = field(default_factory=list)
    """What the provider could not honour (the turn's own warnings are on ``Turn``)."""

    @property
    def retryable(self) -> bool:
        return isinstance(self.error, ProviderError) and self.error.retryable


@dataclass(eq=False)
class Turn(LoopHooks):
    """One turn of the web chat. With tools, the tool loop (``tools.driver.ToolLoop``)
    runs it and this turn is its hooks: each step saved as a message, ``ask`` tools
    waiting for the owner's approve / deny, tool images kept in the file store."""

    deps: ChatDeps
    user_id: int
    api_token_id: int | None
    model: ResolvedModel
    request: ChatRequest
    warnings: list[str]
    conversation: ConversationView
    user_message: MessageView | None
    assistant_id: int
    previous_leaf: int | None
    """The leaf shown before this turn (given back if a regenerate fails outright)."""
    regenerate: bool
    new_conversation: bool = False
    client_stopped: bool = False
    principal: Principal | None = None
    prompt: str | None = None
    """An image model's turn: what to draw (None: a chat turn)."""
    edit_from: tuple[GeneratedImage, ...] = ()
    """An image model's turn with pictures sent: the pictures to edit (the model's
    catalog entry says it edits)."""
    continued: ResolvedModel | None = None
    """The model the conversation goes on with when another answered this turn (a
    vision model read images the chosen model cannot; decision 0141)."""
    stored_parts: list[dict[str, Any]] | None = None
    """The answer's parts as saved, when they are not the result's (pictures kept in the
    file store)."""
    fallbacks: list[str] = field(default_factory=list)
    failed: list[tuple[str, SwitchboardError]] = field(default_factory=list)
    """The models that failed before the one that answered (saved with the answer)."""
    auto: AutoPick | None = None
    """Set when the user picked Auto: the model chosen for this turn and why."""
    tools: TurnTools | None = None
    """The turn's tools (None: one model call, no loop)."""
    loop: ToolLoop | None = field(default=None, repr=False)
    """The tool loop of a turn with tools (made from ``tools``)."""
    _pending: dict[str, asyncio.Future[bool]] = field(default_factory=dict, repr=False)
    """Calls of ``ask`` tools waiting for the user's approve / deny, by call id."""
    approval_wait: float = APPROVAL_WAIT
    _saving: asyncio.Task[Saved] | None = field(default=None, repr=False)
    _titling: asyncio.Task[str | None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.tools is not None and self.loop is None:
            self.loop = ToolLoop(self.tools, self.request,
                                 ToolContext(self.caller, self.conversation.id), hooks=self,
                                 vision=self.model.capabilities.vision is not False)

    def decide(self, call_id: str, approved: bool) -> bool:
        """The user's approve / deny of a waiting call (``POST …/tool-calls/{id}/approve``);
        False when no such call is waiting (decided already, or never asked)."""
        waiting = self._pending.get(call_id)
        if waiting is None or waiting.done():
            return False
        waiting.set_result(approved)
        return True

    def stopped_by_client(self) -> None:
        """The stop button (``services.answer_jobs``): the reason saved is "stopped"."""
        self.client_stopped = True

    @property
    def caller(self) -> Principal:
        """Who the turn's calls are made for (the answer's and the title's)."""
        return self.principal or Principal(self.user_id, "", "user", self.api_token_id)

    def spec(self, *, stream: bool = True) -> CallSpec:
        request = self.request if self.loop is None else self.loop.call_request()
        return CallSpec(self.caller, "chat", request, self.model.ref, self.fallbacks,
                        stream=stream)

    async def draw(self) -> StreamStart:
        """An image model's turn: the pictures drawn through ``Pipeline.images``, kept in
        the file store, and the answer saved with parts referencing them. Raises what
        ended the turn (the answer is saved with it, as for a chat call)."""
        assert self.prompt is not None
        started = time.perf_counter()
        try:
            done = await self.deps.pipeline.images(CallSpec(
                self.caller, "chat", ImageRequest(prompt=self.prompt, images=self.edit_from),
                self.model.ref, stream=False))
            self.stored_parts = await self._keep(done)
        except BaseException as exc:
            self._never_answered(exc)
            raise
        self.model = done.model
        base = failed_outcome(done.model, None, None)
        result = base.result
        result.finish_reason = FinishReason("stop", "images")
        result.usage = done.result.usage
        result.warnings = list(done.result.warnings)
        self.on_done(replace(base, status="ok", cost=done.cost, result=result,
                             latency_ms=int((time.perf_counter() - started) * 1000)))
        return StreamStart(warnings=list(done.result.warnings))

    async def _keep(self, done: Imaged) -> list[dict[str, Any]]:
        assert self.prompt is not None
        pictures = done.result.images
        if self.deps.file_root is None:
            return dump_parts(ImagePart.from_bytes(p.data, p.media_type) for p in pictures)
        return await keep_pictures(self.deps.db, self.deps.file_root, self.user_id, pictures,
                                   prompt=self.prompt, size=done.result.size)

    async def open(self) -> OpenCall:
        return await self._open()

    async def _open(self) -> OpenCall:
        """The answer, opened through the pipeline (its first event in hand); ``on_done``
        saves it however it ends, its progress saved every second on the way so a crash
        keeps what was said. Raises what ended the turn before the first event."""
        try:
            call = await self.deps.pipeline.open(self.spec(), on_done=self._settled)
        except BaseException as exc:
            self._never_answered(exc)
            raise
        self._answered_by(call.model, call.failed)
        self.warnings += [w.message for w in call.warnings
                          if w.message.startswith("answered by ")]
        if self.deps.progress is not None:
            self.deps.progress.track(self.assistant_id, call.collector)
        return call

    async def _keep_streamed(self, event: ImageOutput) -> ImageKept | None:
        """A picture the model answered with, kept as it arrives so the page can show
        it in its place (the final save references the same file). Not kept (no store,
        the owner's quota full): the page sees it when the answer is saved."""
        if self.deps.file_root is None:
            return None
        try:
            return ImageKept(await keep_image(self.deps.db, self.deps.file_root, self.user_id,
                                              event.data, event.media_type))
        except SwitchboardError:
            return None

    def events(self) -> AsyncIterator[StreamEvent | LoopEvent | ImageKept]:
        """``open()`` as one stream of events, first included; with tools, every step
        of the tool loop (decision 0100)."""
        return self._events() if self.loop is None else self._loop(self.loop)

    async def _events(self) -> AsyncGenerator[StreamEvent | ImageKept, None]:
        if self.prompt is not None:
            yield await self.draw()
            return
        async for event in self._step():
            yield event
            if isinstance(event, ImageOutput):
                kept = await self._keep_streamed(event)
                if kept is not None:
                    yield kept

    async def _step(self) -> AsyncGenerator[StreamEvent, None]:
        """One model call's events, first included (a step of the tool loop: a drawing
        model is never given tools, so pictures are kept by the final save there)."""
        call = await self.open()
        try:
            yield call.first
            async for event in call.events:
                yield event
        finally:
            await call.aclose()

    async def _loop(self, loop: ToolLoop) -> AsyncGenerator[
            StreamEvent | LoopEvent | ImageKept, None]:
        """The tool loop (``ToolLoop.run``) with this turn as its hooks. The final answer
        is saved by ``on_done`` as for any turn; whatever ends the loop early (stop,
        shutdown, an error, the cost cap) closes it through ``_never_answered``."""
        try:
            async for event in loop.run(self._step):
                yield event
            if loop.limited is not None:
                self._never_answered(LoopLimit(loop.limited))
        except BaseException as exc:
            self._never_answered(exc)
            raise

    # -- the loop's hooks (tools.driver.LoopHooks) --------------------------------------------

    async def calls_made(self, loop: ToolLoop, ended: CallOutcome) -> LoopEvent | None:
        """The step's tool-call message saved before the tools run (decision 0101)."""
        step_id = await save_step(self.deps.db, self.assistant_id, "assistant",
                                  dump_parts(ended.result.parts), outcome=ended)
        if self.deps.progress is not None:  # heartbeats while the tools run (decision 0024)
            self.deps.progress.track(self.assistant_id, Collector())
        return ToolStep(loop.step, step_id, "assistant")

    async def approvals(self, loop: ToolLoop, calls: list[ToolCallPart]
                        ) -> AsyncGenerator[ApprovalNeeded | ApprovalGiven, None]:
        """Ask the user about each call of an ``ask`` tool and wait for every answer
        (``approval_wait`` at most: then declined). The wait is said on the saved answer,
        so a page loaded from the database shows it; the events reach every tab."""
        tools = loop.tools
        asks = [c for c in calls if tools.asks(c.name)]
        if not asks:
            return
        running = asyncio.get_running_loop()
        for call in asks:
            self._pending[call.id] = running.create_future()
            yield ApprovalNeeded(call.id, tools.public_name(call.name), call.arguments)
        names = ", ".join(dict.fromkeys(tools.public_name(c.name) for c in asks))
        await set_note(self.deps.db, self.assistant_id, f"{WAITING}: {names}")
        try:
            await asyncio.wait([self._pending[c.id] for c in asks], timeout=self.approval_wait)
        finally:
            futures = [self._pending.pop(c.id) for c in asks]
        for call, decided in zip(asks, futures, strict=True):
            yield ApprovalGiven(call.id, decided.done() and decided.result())
        await set_note(self.deps.db, self.assistant_id, IN_PROGRESS)

    async def results_ready(self, loop: ToolLoop, run: StepRun) -> LoopEvent | None:
        """The step's results saved as the tool message, its images kept in the file
        store and referenced (``message_files``), as an image model's pictures are."""
        kept = await self._kept(run)
        parts = [*dump_parts(r.part() for r in run.ordered()), *kept]
        result_id = await save_step(self.deps.db, self.assistant_id, "tool", parts)
        return ToolStep(loop.step, result_id, "tool",
                        tuple(p for p in kept if "file" in p))  # never base64 in events

    async def _kept(self, run: StepRun) -> list[dict[str, Any]]:
        kept: list[dict[str, Any]] = []
        for result in run.ordered():
            for image in result.output.images:
                inline = dump_parts([image])[0]
                if self.deps.file_root is None or image.data is None:
                    kept.append(inline)
                    continue
                try:
                    kept.append(await keep_image(
                        self.deps.db, self.deps.file_root, self.user_id,
                        base64.b64decode(image.data), image.media_type,
                        {"tool": result.name, "call": result.call.id}))
                except ValidationFailed:  # over the owner's quota: kept in the row
                    kept.append(inline)
        return kept

    def interrupted(self, loop: ToolLoop, run: StepRun) -> None:
        """Stopped (or shut down) while tools ran: the calls that finished keep their
        results, the others say why they have none, so every saved call is answered and
        the conversation goes on from here. Spawned: cancellation is under way."""
        self.deps.spawn(save_step(self.deps.db, self.assistant_id, "tool",
                                  dump_parts(run.interrupted())))

    async def shown_images(self, loop: ToolLoop, images: list[ImagePart]) -> list[Message]:
        """A tool's images for the next step: as they are to a model that sees; to a
        text-only model, described by the user's vision model (``services.captions``,
        cached per image), or left out when none is configured."""
        if loop.vision:
            return [pictures_message(images)]
        registry = await self.deps.pipeline.registry_source()
        reader = await vision_model(self.deps.db, registry, self.user_id)
        if reader is None:
            return []
        described, warnings = await describe_images(
            self.deps.pipeline, self.deps.db, self.caller, reader, [pictures_message(images)])
        self.warnings += warnings
        return described

    async def complete(self) -> Saved:
        """The answer from ONE non-streaming vendor call (after fallbacks), saved. An image
        model draws; with tools, the tool loop runs (streaming each step) and its final
        answer is saved."""
        if self.prompt is not None:
            try:
                await self.draw()
            except SwitchboardError:
                pass  # saved with the answer
            return await self.saved()
        if self.tools is not None:
            try:
                async for _ in self.events():
                    pass
            except SwitchboardError:
                pass  # the outcome with this error was saved
            return await self.saved()
        try:
            done = await self.deps.pipeline.complete(self.spec(stream=False),
                                                     on_done=self._settled)
            self._answered_by(done.model, done.failed)
        except SwitchboardError as exc:
            self._never_answered(exc)  # else the outcome (with this error) was saved
        return await self.saved()

    def _answered_by(self, model: ResolvedModel, failed: list[tuple[str, SwitchboardError]],
                     ) -> None:
        self.model = model
        self.failed = failed

    def _settled(self, outcome: CallOutcome | None) -> None:
        if outcome is None:  # no model was reached (see _never_answered)
            return
        if self.loop is not None:
            final = self.loop.settle(outcome, stopped=self.client_stopped)
            if final is None:  # a step of the tool loop: the loop saves it
                if self.deps.progress is not None:
                    self.deps.progress.forget(self.assistant_id)
                return
            outcome = final
        self.on_done(outcome)

    def _never_answered(self, exc: BaseException) -> None:
        """Ended before any model was called (a limit refused it, cancelled): the
        placeholder answer is still closed, with what went wrong."""
        if self._saving is None:
            error = exc if isinstance(exc, SwitchboardError) else None
            reason = None if error is not None else f"interrupted ({type(exc).__name__})"
            self.on_done(failed_outcome(self.model, self.request, error, reason))

    async def saved(self) -> Saved:
        """Wait for the final write. Shielded: the caller going away must not cancel it."""
        if self._saving is None:
            raise RuntimeError("the turn has not ended yet")
        return await asyncio.shield(self._saving)

    def on_done(self, outcome: CallOutcome) -> None:
        if self._saving is not None:
            return  # saved once: a later cancellation of the loop changes nothing
        if self.loop is not None:
            outcome = self.loop.total(outcome)
        if self.deps.progress is not None:
            self.deps.progress.forget(self.assistant_id)
        # The usage rows are the pipeline's (one per upstream attempt, source "chat").
        self._saving = self.deps.spawn(_save_answer(self, outcome))
        # An image model cannot name the conversation: it keeps its first message.
        if self.new_conversation and self.deps.auto_titles and self.prompt is None:
            self._titling = self.deps.spawn(_retitle(self))

    async def new_title(self) -> str | None:
        """The title the model gave a new conversation (None: it keeps its first one)."""
        if self._titling is None:
            return None
        return await asyncio.shield(self._titling)


# -- starting a turn --------------------------------------------------------------------------

def title_from(text: str) -> str:
    """A new conversation's title: its first message on one line, cut at a word near
    ``TITLE_LENGTH`` characters (no extra model call)."""
    flat = " ".join(text.split())
    if len(flat) <= TITLE_LENGTH:
        return flat
    cut = flat[:TITLE_LENGTH].rsplit(" ", 1)[0]
    return (cut if len(cut) >= TITLE_LENGTH // 2 else flat[:TITLE_LENGTH]).rstrip() + "…"


@dataclass(frozen=True, slots=True)
class _Thread:
    """Where a turn goes in the conversation's tree."""

    history: list[StoredMessage]
    """What the model is shown before the new question (or, regenerate, the question)."""
    parent_id: int | None
    """The parent of the new question; of the new answer when regenerating."""
    system_prompt: str | None
    previous_leaf: int | None


async def _thread(db: Database, user_id: int, conversation_id: int,
                  body: ChatInput) -> _Thread:
    async with db.session() as session:
        conversation = await owned_conversation(session, user_id, conversation_id)
        tree = await load_tree(session, conversation_id)
        path = tree.path(conversation.leaf_id)
        if body.edit_of is not None:
            if body.edit_of not in tree:
                raise ValidationFailed(f"conversation {conversation_id} has no message "
                                       f"{body.edit_of} to edit", field="edit_of")
            path = tree.path(body.edit_of)[:-1]
        rows = {r.id: r for r in (await session.scalars(
            select(m.Message).where(m.Message.conversation_id == conversation_id,
                                    m.Message.id.in_([*path, body.edit_of or 0])))).all()}
        system_prompt = conversation.system_prompt
        previous_leaf = conversation.leaf_id if conversation.leaf_id in tree else tree.newest()
    if body.edit_of is not None and rows[body.edit_of].role != "user":
        raise ValidationFailed(f"message {body.edit_of} is an answer: only your own "
                               "messages can be edited", field="edit_of")
    history = [StoredMessage(r.id, r.role, list(r.parts or []), r.status)
               for r in (rows[i] for i in path)]
    if body.edit_of is not None:
        parent = tree.parent(body.edit_of)
    elif body.regenerate:
        last_user = max((i for i, r in enumerate(history) if r.role == "user"), default=None)
        if last_user is None:
            raise ValidationFailed(f"conversation {conversation_id} has no message to "
                                   "answer again", field="regenerate")
        history = history[:last_user + 1]
        parent = history[-1].id
    else:
        parent = history[-1].id if history else None
    return _Thread(history, parent, system_prompt, previous_leaf)


def _build_request(body: ChatInput, history: list[Message],
                   conversation_prompt: str | None, tools: TurnTools | None) -> ChatRequest:
    options = body.options
    try:
        return ChatRequest(messages=history,
                           system=conversation_prompt or options.system_prompt or None,
                           temperature=options.temperature,
                           max_output_tokens=options.max_output_tokens,
                           tools=tools.specs() if tools is not None else None)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first.get("loc", ())
        where = ".".join(str(p) for p in loc) or "request"
        message = str(first.get("msg", "")).removeprefix("Value error, ")
        if loc and loc[0] == "tools":
            raise ValidationFailed(f"{where}: {message}", field="tools") from None
        if not loc or loc[0] == "messages":  # over a request limit (spec/limits.py)
            raise ValidationFailed(
                f"{where}: {message}. This conversation has grown too large to send; "
                "start a new one", field="conversation_id") from None
        raise ValidationFailed(f"{where}: {message}", field="options") from None


async def _turn_tools(deps: ChatDeps, names: list[str], model: ResolvedModel,
                      caller: Principal) -> TurnTools | None:
    """The tools the turn asked for, from the toolbox; a name it does not offer (unknown,
    disabled, or denied by policy) is refused before anything is written."""
    if not names:
        return None
    flags.require("tool_loop", caller)  # an admin's switch (decision 0124)
    if deps.toolbox is None:
        raise ValidationFailed("this server offers no tools yet", field="tools")
    found = list(await deps.toolbox.for_turn(names, caller))
    known = {t.spec.name for t in found}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValidationFailed(f"no tool named {', '.join(map(repr, unknown))} is available "
                               "to you; GET /api/tools lists the tools you can use",
                               field="tools")
    tools = TurnTools.of([t for t in found if t.spec.name in names],
                         max_cost=await default_cost_cap(deps.db, caller,
                                                         timezone=deps.budget_timezone),
                         emulated=model.capabilities.tools is False)  # decision 0103
    if len(tools.by_wire) < len(known):
        raise ValidationFailed("two of these tools have the same name for a model "
                               f"({', '.join(sorted(known))}); leave one out", field="tools")
    return tools


async def start_turn(deps: ChatDeps, registry: Registry, user_id: int, body: ChatInput, *,
                     api_token_id: int | None = None,
                     principal: Principal | None = None) -> Turn:
    """Check the request, then write the question and a placeholder answer."""
    auto = await _auto_pick(deps, registry, user_id, body, principal)
    if auto is not None:
        body = body.model_copy(update={"model": auto.ref})
    model, warnings = await choose_model(deps.db, registry, user_id, body.model)
    drawing = model.model_type == "image"
    # an image model that edits (catalog: edits) takes the sent pictures as an edit
    edits = drawing and bool(model.image_capabilities and model.image_capabilities.edits)
    if drawing:  # type, key and the model's defaults checked before anything is written
        model.image_request(ImageRequest(prompt=body.text or "-"))
        if body.files or (body.images and not edits):
            raise ValidationFailed(f"model {model.ref!r} draws pictures from words only: "
                                   "send the description without attachments",
                                   field="images")
        if deps.file_root is not None:  # the pictures must fit before they are paid for
            await files.check_room(deps.db, user_id, 1)
    else:
        model.chat_model()  # a missing key is refused here, before anything is written
    # Fallbacks must be enabled models too; said now, before anything is written.
    fallbacks = [resolve_enabled(registry, ref, field="fallbacks").ref
                 for ref in body.fallbacks]
    continued = model  # what the conversation goes on with after this turn
    # A text-only model is never sent an image (a vendor 400): a vision model reads it
    # (services.captions, decision 0147). Unknown vision (None): the vendor decides.
    blind = not drawing and model.capabilities.vision is False
    reader = None
    if blind and body.images and not body.regenerate:
        reader = await vision_model(deps.db, registry, user_id)
        if reader is None:
            raise ValidationFailed(f"model {model.ref!r} does not accept images, and no "
                                   "configured model does; an admin can enable one",
                                   field="images")
        if (body.images_to or await image_handling(deps.db, user_id)) == "vision":
            model = reader  # the vision model answers this turn only
            fallbacks = [ref for ref in fallbacks
                         if registry.resolve(ref).capabilities.vision is not False]
            warnings.append(f"read by {reader.ref}: {continued.ref} cannot see images")
            blind = False
    thread = _Thread([], None, None, None)
    if body.conversation_id is not None:
        thread = await _thread(deps.db, user_id, body.conversation_id, body)
    elif body.regenerate or body.edit_of is not None:
        raise ValidationFailed("regenerate and edit_of need the conversation_id of the "
                               "conversation", field="conversation_id")
    pdfs = reads_pdfs(model.kind, model.capabilities.vision)
    inline: dict[str, dict[str, Any]] = {}
    if deps.file_root is not None and (not drawing or edits):
        inline = await inline_files(deps.db, deps.file_root, user_id,
                                    [r.parts for r in thread.history], documents=pdfs)
    history, history_warnings = build_history(thread.history, vision=True, inline=inline,
                                              pdfs=pdfs)
    if blind and has_images(history):
        reader = reader or await vision_model(deps.db, registry, user_id)
        if reader is None:  # nobody can describe them: left out, as before
            history, history_warnings = build_history(thread.history, vision=False,
                                                      inline=inline, pdfs=pdfs)
    warnings += history_warnings
    user_parts: list[dict[str, Any]] = []
    if not body.regenerate:
        attached = [await _read_file(deps, user_id, i, f) for i, f in enumerate(body.files)]
        warnings += [w for f in attached for w in f.warnings]
        images = [await _kept_image(deps, user_id, i, inline) for i in body.images]
        kept_files = [await _kept_file(deps, user_id, f, inline) for f in attached]
        user_parts = [*dump_parts([TextPart(text=body.text)]), *images, *kept_files]
        _ask(history, Message(role="user", parts=model_parts(user_parts, inline,
                                                             pdfs=pdfs)))
    if blind and reader is not None and has_images(history):
        history, caption_warnings = await describe_images(
            deps.pipeline, deps.db, principal or Principal(user_id, "", "user", api_token_id),
            reader, history)
        warnings += caption_warnings
        warnings.append(f"images described by {reader.ref}: {model.ref} cannot see images")
    if not history:
        raise ValidationFailed("there is nothing to answer in this conversation",
                               field="regenerate")
    caller = principal or Principal(user_id, "", "user", api_token_id)
    if body.compare:
        flags.require("comparison", caller)  # an admin's switch (decision 0124)
    # A model that answers with pictures (Gemini's image models) takes no tools, and
    # emulated tool calling would make it answer JSON instead of pictures: no loop.
    tools = (None if model.capabilities.image_output
             else await _turn_tools(deps, body.tools, model, caller))
    if tools is None and body.tools:
        warnings.append(f"tools were not used: {model.ref} answers with pictures and "
                        "takes none")
    request = _build_request(body, history, thread.system_prompt, tools)
    prompt = None
    edit_from: tuple[GeneratedImage, ...] = ()
    if drawing:
        asked = user_parts if not body.regenerate else thread.history[-1].parts
        prompt = body.text if not body.regenerate else text_of(asked)
        if edits:  # the question's pictures are what to edit (checked before writing)
            edit_from = _pictures_of(asked, inline)
            if edit_from:
                model.image_request(ImageRequest(prompt=prompt or "-", images=edit_from))
    # The question's task type goes on the answer: what grades and suggestions are kept
    # per (decision 0136). Auto classified it already; otherwise ~0.1 ms, no network.
    turn = turn_of(request)
    task = auto.task if auto is not None else classify(
        turn.prompt, images=turn.images, history=turn.history).task

    async with deps.db.unit_of_work() as session:
        if body.conversation_id is None:
            conversation = m.Conversation(user_id=user_id, title=title_from(body.text),
                                          provider=continued.provider_name,
                                          model=continued.model_id,
                                          tools=remembered_tools(body.tools))
            session.add(conversation)
            await session.flush()
        else:  # again, inside the transaction: it may have been deleted meanwhile
            conversation = await owned_conversation(session, user_id, body.conversation_id)
            # The conversation continues with the model of its latest turn from now on,
            # even if this answer fails or is still streaming when the page reloads.
            conversation.provider = continued.provider_name
            conversation.model = continued.model_id
            # The turn's tools are the conversation's from now on (decision 0164).
            conversation.tools = remembered_tools(body.tools)
        user_row = None
        answer_parent = thread.parent_id
        if user_parts:
            user_row = m.Message(conversation_id=conversation.id, role="user",
                                 parent_id=thread.parent_id, parts=user_parts,
                                 status="complete")
            session.add(user_row)
            await session.flush()
            answer_parent = user_row.id
        answer = m.Message(conversation_id=conversation.id, role="assistant", parts=[],
                           parent_id=answer_parent, provider=model.provider_name,
                           model=model.model_id, task=task, status="partial",
                           auto=auto.as_dict() if auto is not None else None,
                           error=IN_PROGRESS,
                           writer=deps.progress.writer if deps.progress else None,
                           progress_at=utcnow())
        session.add(answer)
        await session.flush()
        if body.regenerate and not body.compare:  # asked again: a vote against it
            await record_regenerate(session, thread.previous_leaf, user_id)
        conversation.leaf_id = answer.id
        await session.flush()
        conversation_view = await load_conversation_view(session, conversation)
        user_view = None
        if user_row is not None:
            user_view = (await load_message_views(session, conversation.id, [user_row.id]))[0]
    return Turn(deps=deps, user_id=user_id, api_token_id=api_token_id, model=model,
                request=request, warnings=warnings, conversation=conversation_view,
                user_message=user_view, assistant_id=answer.id,
                previous_leaf=thread.previous_leaf, regenerate=body.regenerate,
                new_conversation=body.conversation_id is None, principal=principal,
                prompt=prompt, edit_from=edit_from,
                continued=None if continued is model else continued,
                fallbacks=[ref for ref in dict.fromkeys(fallbacks) if ref != model.ref],
                auto=auto, tools=tools)


async def _auto_pick(deps: ChatDeps, registry: Registry, user_id: int, body: ChatInput,
                     principal: Principal | None) -> AutoPick | None:
    """Auto in the chat: the model is chosen up front, by the same routing step as on
    ``/v1`` (``AutoRouter.choose``), from the question and its images, so the turn is
    then an ordinary turn with that model — saved, shown and continued as it. (A
    regenerate has no new text: the question it answers again is classified.)"""
    tier = auto_tier(body.model)
    if tier is None:
        return None
    router = deps.pipeline.router
    auto = router if isinstance(router, AutoRouter) else AutoRouter(router)
    questions: list[str] = []
    size = 0
    if body.conversation_id is not None:
        questions, size = await _earlier(deps.db, user_id, body.conversation_id)
    text = body.text
    if not text and questions:  # a regenerate answers the last question again
        text = questions.pop()
    size += len(text) + sum(len(f.data or "") for f in body.files)
    who = principal or Principal(user_id=user_id, username="", role="user")
    turn = preview_turn(text, images=len(body.images), history=questions,
                        tokens=max(size // 4, 1))
    return await auto.choose(who, tier, turn, registry)


EARLIER_MESSAGES = 200
"""Messages of a conversation read to size it for Auto (the newest; a longer one is
measured by them, and routing falls back on a context error anyway)."""


async def _earlier(db: Database, user_id: int, conversation_id: int) -> tuple[list[str], int]:
    """The conversation's user questions (oldest first) and its size in characters,
    for Auto's choice (the context filter and the follow-up rule)."""
    async with db.session() as session:
        conversation = await session.get(m.Conversation, conversation_id)
        if conversation is None or conversation.user_id != user_id:
            return [], 0  # the turn refuses it with its own error a moment later
        rows = (await session.scalars(
            select(m.Message).where(m.Message.conversation_id == conversation_id)
            .order_by(m.Message.id.desc()).limit(EARLIER_MESSAGES))).all()
    questions: list[str] = []
    size = 0
    for row in reversed(rows):
        text = " ".join(str(p.get("text", "")) for p in row.parts or []
                        if p.get("type") in ("text", "reasoning"))
        size += len(text)
        if row.role == "user":
            questions.append(text)
    return questions, size


async def _kept_image(deps: ChatDeps, user_id: int, image: ImageInput,
                      inline: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A sent image as its stored part: kept in the file store and referenced (its
    inline form added to ``inline`` for this turn's request), or inline without one. A
    ``file`` reference must name a file of the sender's (else the same 404 as
    ``GET /api/files``)."""
    if image.file is not None:
        if deps.file_root is None:
            raise ValidationFailed("this server keeps no files: send the image's data",
                                   field="images")
        ref, data = await files.read(deps.db, deps.file_root, user_id, image.file)
        part = ImagePart.from_bytes(data, ref.media_type)
        inline[ref.sha256] = dump_parts([part])[0]
        return reference(ref)
    assert image.data is not None
    part = ImagePart(media_type=image.media_type, data=image.data)
    if deps.file_root is None:
        return dump_parts([part])[0]
    kept = await keep_image(deps.db, deps.file_root, user_id, base64.b64decode(image.data),
                            image.media_type)
    inline[kept["file"]["sha256"]] = dump_parts([part])[0]
    return kept


async def _read_file(deps: ChatDeps, user_id: int, index: int, sent: FileInput) -> ReadFile:
    """A sent attachment read (``services.attachments``): from its base64, or — sent
    again by reference (an edited question) — from the sender's file in the store (else
    the same 404 as ``GET /api/files``)."""
    field = f"files.{index}"
    if sent.file is None:
        assert sent.data is not None
        return await read_attachment(sent.filename, sent.media_type, sent.data, field=field)
    if deps.file_root is None:
        raise ValidationFailed("this server keeps no files: send the file's data", field=field)
    ref, data = await files.read(deps.db, deps.file_root, user_id, sent.file)
    return await read_attachment(sent.filename, ref.media_type, data, field=field)


async def _kept_file(deps: ChatDeps, user_id: int, read: ReadFile,
                     inline: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A read attachment as its stored part: kept in the file store and referenced, its
    name and text beside the reference (decision 0186; its bytes added to ``inline`` for
    this turn's request), or inline without a store."""
    if deps.file_root is None:
        return read.as_part()
    kept = await keep_file(deps.db, deps.file_root, user_id, read.raw, read.media_type,
                           kind="file", fields=read.fields())
    inline[kept["file"]["sha256"]] = {"media_type": read.media_type,
                                      "data": base64.b64encode(read.raw).decode("ascii")}
    return kept


def _pictures_of(parts: list[dict[str, Any]], inline: dict[str, dict[str, Any]]
                 ) -> tuple[GeneratedImage, ...]:
    """The pictures of a question's stored parts, as bytes (what an edit starts from)."""
    found: list[GeneratedImage] = []
    for part in parts:
        shown = resolve(part, inline) if part.get("type") == "image" else None
        if shown is not None and isinstance(shown.get("data"), str):
            raw = base64.b64decode(shown["data"])
            found.append(GeneratedImage(raw, sniff_media_type(raw) or "image/png"))
    return tuple(found)


def _ask(history: list[Message], question: Message) -> None:
    """Append the question; after a question already there (the last answer's pictures,
    ``chat_history``) the two become one, so the roles still alternate."""
    if history and history[-1].role == "user":
        history[-1] = Message(role="user", parts=[*history[-1].parts, *question.parts])
    else:
        history.append(question)


# -- ending a turn ----------------------------------------------------------------------------

def _said_something(result: ChatResult) -> bool:
    return bool(result.text or result.tool_calls
                or any(getattr(p, "text", "") for p in result.parts))


def _status_and_reason(turn: Turn, outcome: CallOutcome) -> tuple[str, str | None]:
    if outcome.status == "ok":
        return "complete", None
    status = "partial" if _said_something(outcome.result) else "error"
    if turn.client_stopped or outcome.reason == "client disconnected":
        return status, STOPPED
    if outcome.error is not None:
        return status, outcome.error.message
    if outcome.reason is not None:
        return status, INTERRUPTED
    return status, "the answer ended without a finish reason"


async def _save_answer(turn: Turn, outcome: CallOutcome) -> Saved:
    status, reason = _status_and_reason(turn, outcome)
    result = outcome.result
    usage = result.usage
    keep_previous = turn.regenerate and status == "error"
    warnings = [w.message for w in result.warnings]
    parts = (turn.stored_parts if turn.stored_parts is not None
             else dump_parts(result.parts))
    try:
        if turn.deps.file_root is not None and not keep_previous:
            # pictures the model answered with (Gemini): referenced, not base64 in the row
            parts = await keep_answer_images(turn.deps.db, turn.deps.file_root, turn.user_id,
                                             parts)
        async with turn.deps.db.unit_of_work() as session:
            row = await session.get(m.Message, turn.assistant_id)
            if row is None:  # the conversation was deleted while the answer streamed
                return Saved(status, None, None, outcome.error, reason, warnings)
            conversation = await session.get(m.Conversation, row.conversation_id)
            assert conversation is not None  # messages CASCADE with their conversation
            message: MessageView | None = None
            if keep_previous:
                await session.delete(row)
                if conversation.leaf_id == row.id:
                    conversation.leaf_id = turn.previous_leaf
            else:
                row.parts = parts
                row.input_tokens = usage.input_tokens
                row.output_tokens = usage.output_tokens
                row.cached_tokens = usage.cached_input_tokens
                row.cache_write_tokens = usage.cache_write_tokens
                row.reasoning_tokens = usage.reasoning_tokens
                row.cost = outcome.cost
                row.usage_estimated = outcome.estimated
                row.latency_ms = outcome.latency_ms
                row.ttft_ms = outcome.ttft_ms
                finish = result.finish_reason
                row.finish_reason = finish.unified if finish else (
                    "error" if status == "error" else None)
                row.status = status
                row.error = reason
                row.writer = None  # final: no progress write changes it any more
                row.progress_at = utcnow()
                row.provider = outcome.provider  # the model that really answered
                row.model = outcome.model
                row.failed_models = [{"ref": ref, "code": error.code}
                                     for ref, error in turn.failed] or None
                kept = turn.continued
                conversation.provider = kept.provider_name if kept else outcome.provider
                conversation.model = kept.model_id if kept else outcome.model
                conversation.updated_at = utcnow()
            await session.flush()
            if not keep_previous:
                message = (await load_message_views(session, conversation.id, [row.id]))[0]
            view = await load_conversation_view(session, conversation)
        return Saved(status, message, view, outcome.error, reason, warnings)
    except Exception:
        log.exception("saving answer %s of conversation %s failed", turn.assistant_id,
                      turn.conversation.id)
        raise


async def _retitle(turn: Turn) -> str | None:
    """After the first answer is saved complete: ask the model for a title, and keep it
    unless the user renamed the conversation meanwhile."""
    saved = await turn.saved()
    if saved.status != "complete" or saved.message is None or turn.user_message is None:
        return None
    title = await suggest_title(turn.deps.pipeline, turn.caller, turn.model,
                                turn.user_message.text, saved.message.text)
    if title is None:
        return None
    async with turn.deps.db.unit_of_work() as session:
        row = await session.get(m.Conversation, turn.conversation.id)
        if row is None or row.title != turn.conversation.title:
            return None
        row.title = title
    return title


__all__ = ["ChatDeps", "ChatInput", "LoopLimit", "Saved", "Turn", "start_turn", "title_from"]
