"""What a chat call may ask for (the body of ``POST /api/chat`` and ``/api/chat/stream``),
and which model answers it.

The input models validate everything that needs no database or network, so a bad
request is refused with a 422 naming the field before anything is written.

Model choice: the model named in the request, else the user's saved preference, else the
global default. Only models ENABLED in the catalog are accepted here (the chat UI offers
nothing else): a ref the registry could pass through to a vendor unchecked (``/v1`` does,
for brand-new model ids) is refused, so an admin's "disable" holds for the chat. A saved
preference that no longer resolves falls back to the default, with a warning.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy import select

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.db.ids import MAX_ID
from switchboard.registry import Registry, ResolvedModel
from switchboard.services.attachments import MAX_FILE_BYTES, MAX_FILENAME, MAX_FILES
from switchboard.services.errors import ValidationFailed
from switchboard.services.pipeline import MAX_FALLBACKS, MAX_MODEL_REF
from switchboard.services.tools.toolbox import MAX_NAME_CHARS, MAX_TOOLS_PER_TURN
from switchboard.spec import (
    ConfigurationError,
    InvalidRequestError,
    UnknownModelError,
    UnknownProviderError,
)
from switchboard.spec.limits import inline_data_problem

MAX_TEXT = 200_000
MAX_IMAGES = 8


class ChatOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float | None = Field(default=None, ge=0, le=2)
    max_output_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    system_prompt: str | None = Field(default=None, max_length=MAX_TEXT)


class ImageInput(BaseModel):
    """An image sent with the message: inline as base64 (``data``), or a file of the
    sender's already in the file store, by its sha256 (``file``: an edited question
    sends its pictures again this way). Exactly one of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    media_type: str = "image/png"
    data: str | None = None
    file: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _one_source(self) -> ImageInput:
        if (self.data is None) == (self.file is None):
            raise ValueError("an image needs exactly one of 'data' (base64) or 'file' "
                             "(the sha256 of a stored file)")
        return self

    @field_validator("media_type")
    @classmethod
    def _media_type(cls, v: str) -> str:
        if not v.startswith("image/"):
            raise ValueError(f"must be an image type such as image/png, got {v!r}")
        return v

    @field_validator("data")
    @classmethod
    def _data(cls, v: str | None) -> str | None:
        if v is None:
            return v
        problem = inline_data_problem(v)  # the same check as /v1's data: URLs
        if problem is not None:
            hint = " (send the base64 without a 'data:' prefix)" if "base64" in problem else ""
            raise ValueError(f"the image {problem}{hint}")
        return v


class FileInput(BaseModel):
    """A text file or PDF sent with the message (read by ``services.attachments``):
    inline as base64 (``data``), or a file of the sender's already in the file store, by
    its sha256 (``file``: an edited question sends its attachments again this way).
    Exactly one of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    filename: str = Field(min_length=1, max_length=MAX_FILENAME * 4)
    media_type: str = Field(default="application/octet-stream", max_length=200)
    data: str | None = Field(default=None, max_length=MAX_FILE_BYTES * 4 // 3 + 4)
    file: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _one_source(self) -> FileInput:
        if (self.data is None) == (self.file is None):
            raise ValueError("a file needs exactly one of 'data' (base64) or 'file' (the "
                             "sha256 of a stored file)")
        return self


ModelRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=MAX_MODEL_REF)]
ToolName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=MAX_NAME_CHARS)]


class ChatInput(BaseModel):
    """One chat call. ``regenerate`` re-answers the conversation's last user message
    (then ``text`` and ``images`` must be left out); the earlier answer stays as a
    version. ``edit_of`` sends ``text`` as a new version of that user message: a new
    branch from there, the earlier branch kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    conversation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    model: str | None = Field(default=None, max_length=MAX_MODEL_REF)
    fallbacks: list[ModelRef] = Field(default_factory=list, max_length=MAX_FALLBACKS)
    """Models tried in order when ``model`` fails before answering (overloaded, rate
    limited, down, the conversation too long for it); decision 0054."""
    regenerate: bool = False  # before ``text``: its validator reads it
    compare: bool = False
    """With ``regenerate``: another answer to set beside the one shown (a side-by-side
    comparison), not a verdict on it, so it casts no regenerate vote (decision 0136)."""
    edit_of: int | None = Field(default=None, ge=1, le=MAX_ID)
    text: str = Field(default="", max_length=MAX_TEXT, validate_default=True)
    images: list[ImageInput] = Field(default_factory=list, max_length=MAX_IMAGES)
    files: list[FileInput] = Field(default_factory=list, max_length=MAX_FILES)
    options: ChatOptions = Field(default_factory=ChatOptions)
    images_to: Literal["vision", "describe"] | None = None
    """For this turn only, what happens to a new image when ``model`` cannot see: the
    vision model answers (``vision``) or describes it for ``model`` (``describe``).
    None: the user's preference (``text_model_images``). The page sets it when it asked
    the user (decision 0172)."""
    tools: list[ToolName] = Field(default_factory=list, max_length=MAX_TOOLS_PER_TURN)
    """Tools the model may call in this turn, by public name (``calculator``,
    ``server.tool``): the server runs them and feeds the results back until the model
    answers in text (the tool loop, decision 0100)."""

    @field_validator("text")
    @classmethod
    def _text(cls, v: str, info: ValidationInfo) -> str:
        regenerate = bool(info.data.get("regenerate"))
        if regenerate and v.strip():
            raise ValueError("must be left out with regenerate (it re-answers the last "
                             "message as it is)")
        if not regenerate and not v.strip():
            raise ValueError("must not be empty: write the message to send")
        return v

    @field_validator("tools")
    @classmethod
    def _tools(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))  # a name given twice is one tool

    @field_validator("compare")
    @classmethod
    def _compare(cls, v: bool, info: ValidationInfo) -> bool:
        if v and not info.data.get("regenerate"):
            raise ValueError("needs regenerate (a comparison answers the last question "
                             "again with another model)")
        return v

    @field_validator("images")
    @classmethod
    def _images(cls, v: list[ImageInput], info: ValidationInfo) -> list[ImageInput]:
        if v and info.data.get("regenerate"):
            raise ValueError("must be left out with regenerate")
        return v

    @field_validator("files")
    @classmethod
    def _files(cls, v: list[FileInput], info: ValidationInfo) -> list[FileInput]:
        if v and info.data.get("regenerate"):
            raise ValueError("must be left out with regenerate")
        if info.data.get("regenerate") and info.data.get("edit_of") is not None:
            raise ValueError("regenerate and edit_of cannot be combined: edit a question "
                             "or answer it again")
        return v


class ModelNotAvailable(UnknownModelError):
    """The chat cannot use this model (404, naming the ``model`` field)."""

    field = "model"


def resolve_enabled(registry: Registry, ref: str, *, field: str = "model") -> ResolvedModel:
    """``ref`` routed to an ENABLED catalog model, or ``ModelNotAvailable`` naming it
    (and the request ``field`` it came from)."""
    hint = "GET /api/model-registry lists the models you can use"
    try:
        model = registry.resolve(ref)
    except (UnknownModelError, UnknownProviderError) as exc:
        raise _unavailable(f"model {ref!r} is not available: {exc.message}", field) from None
    except InvalidRequestError as exc:
        raise ValidationFailed(exc.message, field=field) from None
    if model.info is None:
        raise _unavailable(f"model {ref!r} is not available: it is not an enabled model "
                           f"of provider {model.provider_name!r}; {hint}", field)
    return model


def _unavailable(message: str, field: str) -> ModelNotAvailable:
    error = ModelNotAvailable(message)
    error.field = field
    return error


async def saved_preference(db: Database, user_id: int) -> str | None:
    async with db.session() as session:
        return await session.scalar(select(m.UserPreferences.selected_model)
                                    .where(m.UserPreferences.user_id == user_id))


async def choose_model(db: Database, registry: Registry, user_id: int,
                       ref: str | None) -> tuple[ResolvedModel, list[str]]:
    """The model for a call, and warnings (a saved preference that is gone)."""
    if ref and ref.strip():
        return resolve_enabled(registry, ref.strip()), []
    warnings: list[str] = []
    preferred = await saved_preference(db, user_id)
    if preferred:
        try:
            return resolve_enabled(registry, preferred), warnings
        except (UnknownModelError, ValidationFailed, ConfigurationError) as exc:
            warnings.append(f"your saved model {preferred!r} cannot be used ({exc.message}); "
                            "the default model answered instead")
    if not registry.default_model_ref:
        raise ConfigurationError("no model given and no default model is set: an admin "
                                 "chooses one in Settings > Models")
    return resolve_enabled(registry, registry.default_model_ref), warnings


def vision_suggestion(registry: Registry) -> str | None:
    """A configured, enabled model that accepts images, to name in an error."""
    for entry in registry.catalog():
        if entry.enabled and entry.configured and entry.capabilities.vision \
                and entry.type == "chat":
            return entry.ref
    return None
