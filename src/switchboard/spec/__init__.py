"""The provider contract: pure types, no I/O. Third-party provider plugins code
against this package and nothing else of Switchboard's (``upstream`` is optional help)."""

from switchboard.spec.collect import (
    ChatResult,
    Collector,
    collect,
    collect_stream,
    parse_arguments,
    result_events,
)
from switchboard.spec.embedding import EmbeddingInput, EmbeddingRequest, EmbeddingResult
from switchboard.spec.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ContextLengthError,
    InvalidRequestError,
    MissingApiKeyError,
    NoImageError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamBrokenError,
    SwitchboardError,
    UnknownModelError,
    UnknownProviderError,
    UpstreamConnectionError,
    UpstreamTimeoutError,
)
from switchboard.spec.events import (
    CallWarning,
    ErrorEvent,
    Finish,
    FinishReason,
    ImageOutput,
    ReasoningDelta,
    ResponseMetadata,
    StreamEvent,
    StreamStart,
    TextDelta,
    TokenLogprob,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    UnifiedFinish,
)
from switchboard.spec.image import GeneratedImage, ImageRequest, ImageResult, image_cost
from switchboard.spec.messages import (
    TOOL_PICTURES,
    FilePart,
    ImagePart,
    Message,
    Part,
    ProviderMetadata,
    ReasoningPart,
    Role,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    is_tool_pictures,
)
from switchboard.spec.model import (
    Capabilities,
    EmbeddingCapabilities,
    ImageCapabilities,
    ModelInfo,
    ModelType,
)
from switchboard.spec.provider import (
    ChatModel,
    EmbeddingModel,
    ImageModel,
    KeyCheck,
    Provider,
    ProviderConfig,
)
from switchboard.spec.request import (
    ChatRequest,
    ReasoningEffort,
    ResponseFormat,
    ResponseFormatJson,
    ResponseFormatJsonSchema,
    ResponseFormatText,
    Tool,
    ToolChoice,
    ToolChoiceTool,
)
from switchboard.spec.schema_check import check_json_schema
from switchboard.spec.usage import Price, Usage, cost

__all__ = [
    "AuthenticationError", "BadRequestError", "CallWarning", "Capabilities", "ChatModel",
    "ChatRequest", "ChatResult", "Collector", "ConfigurationError", "ContextLengthError",
    "EmbeddingCapabilities", "EmbeddingInput", "EmbeddingModel", "EmbeddingRequest",
    "EmbeddingResult", "ModelType", "GeneratedImage", "ImageCapabilities", "ImageModel",
    "ImageRequest", "ImageResult", "image_cost",
    "ErrorEvent", "FilePart", "Finish", "FinishReason", "ImageOutput", "ImagePart",
    "InvalidRequestError",
    "KeyCheck", "Message", "MissingApiKeyError", "ModelInfo", "NoImageError", "NotFoundError",
    "OverloadedError", "Part", "PermissionDeniedError", "Price", "Provider",
    "ProviderConfig", "ProviderError", "ProviderMetadata", "RateLimitError",
    "ReasoningDelta", "ReasoningEffort", "ReasoningPart", "ResponseFormat", "ResponseFormatJson",
    "ResponseFormatJsonSchema", "ResponseFormatText", "ResponseMetadata", "Role",
    "ServerError", "StreamBrokenError", "StreamEvent", "StreamStart", "SwitchboardError",
    "TextDelta", "TextPart", "TokenLogprob", "Tool", "ToolCall", "ToolCallDelta", "ToolCallPart",
    "ToolCallStart", "ToolChoice", "ToolChoiceTool", "ToolResultPart", "UnifiedFinish",
    "UnknownModelError", "UnknownProviderError", "UpstreamConnectionError",
    "UpstreamTimeoutError", "Usage", "check_json_schema", "collect", "collect_stream",
    "cost", "parse_arguments", "result_events", "TOOL_PICTURES", "is_tool_pictures",
]
