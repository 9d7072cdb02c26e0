"""The one "is this a chat model?" id rule shared by ``openai`` and ``openai_compatible``
model discovery (``providers/openai/model_filter.py``)."""

from __future__ import annotations

import pytest

from switchboard.providers.openai.model_filter import is_chat_model_id
from switchboard.providers.openai.models import compatible_model_info, openai_model_info

NOT_CHAT = [
    # embeddings
    "text-embedding-3-small", "mistral-embed", "nomic-embed-text:latest",
    "BAAI/bge-large-en-v1.5", "bge-m3", "all-minilm:latest", "intfloat/multilingual-e5-large",
    "Alibaba-NLP/gte-modernbert-base", "models/text-embedding-004",
    # reranking and moderation
    "BAAI/bge-reranker-v2-m3", "mixedbread-ai/mxbai-rerank-large-v1", "omni-moderation-latest",
    "mistral-moderation-latest",
    # speech
    "whisper-1", "whisper-large-v3-turbo", "distil-whisper-large-v3-en", "tts-1-hd",
    "gpt-4o-mini-tts", "playai-tts", "gpt-4o-transcribe", "gpt-4o-realtime-preview",
    # image and video generation
    "dall-e-3", "gpt-image-1", "black-forest-labs/FLUX.1-schnell",
    "stabilityai/stable-diffusion-xl-base-1.0", "imagen-3.0-generate-002", "sora-2",
]
CHAT = [
    "gpt-4o", "o3-mini", "gpt-5", "meta-llama/Llama-3.3-70B-Instruct",
    "Qwen/Qwen2.5-72B-Instruct",
    "llama3.2:latest", "mistral-large-latest", "deepseek-chat", "meta-llama/llama-guard-4-12b",
    "gemini-2.5-flash", "qwen2.5:7b", "mixtral-8x7b-32768", "moonshotai/kimi-k2-instruct",
    "claude-sonnet-4-5", "openai/gpt-oss-120b", "voxtral-small-latest",
]


@pytest.mark.parametrize("model_id", NOT_CHAT)
def test_plainly_non_chat_ids_are_left_out(model_id: str) -> None:
    assert not is_chat_model_id(model_id)
    assert not is_chat_model_id(model_id, openai=True)


@pytest.mark.parametrize("model_id", CHAT)
def test_chat_ids_are_kept(model_id: str) -> None:
    assert is_chat_model_id(model_id)


@pytest.mark.parametrize("model_id", ["gpt-3.5-turbo-instruct", "davinci-002", "babbage-002",
                                      "computer-use-preview", "codex-mini-latest",
                                      "gpt-4o-search-api"])
def test_openai_only_rules_apply_to_openai_alone(model_id: str) -> None:
    """OpenAI serves these on other endpoints; a compatible server's ``-Instruct`` is chat."""
    assert not is_chat_model_id(model_id, openai=True)
    assert is_chat_model_id(model_id)


def test_both_listings_use_the_rule() -> None:
    ids = ["gpt-4o", "text-embedding-3-small", "whisper-1", "gpt-3.5-turbo-instruct"]
    body = {"object": "list", "data": [{"id": i, "object": "model"} for i in ids]}
    assert [m.id for m in openai_model_info(body)] == ["gpt-4o"]
    assert [m.id for m in compatible_model_info(body)] == ["gpt-4o", "gpt-3.5-turbo-instruct"]


def test_compatible_listing_leaves_out_image_only_models() -> None:
    """OpenRouter says what a model outputs; one with no text output cannot chat."""
    body = {"data": [
        {"id": "google/gemini-2.5-flash-image", "architecture": {
            "input_modalities": ["text", "image"], "output_modalities": ["image", "text"]}},
        {"id": "vendor/painter", "architecture": {"output_modalities": ["image"]}},
    ]}
    assert [m.id for m in compatible_model_info(body)] == ["google/gemini-2.5-flash-image"]
