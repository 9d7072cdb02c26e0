"""Which ids in a ``GET /models`` list are chat models: one rule for ``openai`` and every
``openai_compatible`` server.

An OpenAI-style model list names every model the key can use, whatever it does; the
catalog offers chat models only, and the list says nothing about what a model is for
(except Together's ``type`` and OpenRouter's modalities, read in ``models.py``). So a
model is left out when its id *plainly* names another job. The rule, on the lower-cased
id, in whole dash/dot/slash/colon-separated words where a word could appear inside a
chat model's name:

- embeddings: ``embed`` anywhere (``text-embedding-3-small``, ``mistral-embed``,
  ``nomic-embed-text``), and the embedding families ``bge``, ``gte``, ``e5``,
  ``minilm`` as words (``BAAI/bge-m3``, ``all-minilm:latest``);
- reranking: ``rerank`` anywhere;
- moderation: ``moderation`` anywhere (``omni-moderation-latest``, ``mistral-moderation``).
  Guard models that answer through chat completions (Llama Guard) are kept;
- speech: ``whisper``, ``transcribe``, ``realtime`` anywhere, ``tts`` as a word
  (``gpt-4o-mini-tts``, ``playai-tts``);
- image and video generation: ``dall-e``, ``gpt-image``, ``stable-diffusion``,
  ``imagen``, ``sdxl`` anywhere, ``flux`` and ``sora`` as words.

OpenAI's own list additionally holds models it serves only on other endpoints (legacy
completions, the Responses API); ``OPENAI_ONLY`` names them. They are not applied to
compatible servers, where e.g. ``Llama-3.3-70B-Instruct`` *is* a chat model.
"""

from __future__ import annotations

import re

_W = r"(?:^|[-_./:])"  # start of a word
_E = r"(?:$|[-_./:])"  # end of a word

NOT_CHAT = re.compile(
    r"embed|rerank|moderation|whisper|transcribe|realtime|dall-e|gpt-image"
    r"|stable-diffusion|imagen|sdxl"
    rf"|{_W}(?:bge|gte|e5|minilm|tts|flux|sora){_E}"
)
# OpenAI: https://platform.openai.com/docs/models — legacy completions (davinci, babbage,
# gpt-3.5-turbo-instruct) and Responses-only models (computer-use, codex-mini, search-api).
OPENAI_ONLY = re.compile(r"^davinci|^babbage|-instruct$|computer-use|codex-mini|search-api")


def is_chat_model_id(model_id: str, *, openai: bool = False) -> bool:
    """False when ``model_id`` plainly names a non-chat model (see the module doc);
    ``openai=True`` also applies OpenAI's own catalogue rules."""
    mid = model_id.lower()
    if NOT_CHAT.search(mid):
        return False
    return not (openai and OPENAI_ONLY.search(mid))
