"""How much work the offline model does for one request, whatever it is asked.

The offline model answers every member of a shared server without a key, so a request
must not be able to make it allocate, compute or stream without bound (decision 0011).
Every bound of the model lives here:

* it *writes* at most ``MAX_OUTPUT_TOKENS`` (its advertised output limit), i.e.
  ``MAX_OUTPUT_CHARS`` characters: a longer answer is cut with finish ``length``, as a
  real vendor cuts at its output limit; a JSON Schema that cannot be satisfied within it
  is refused up front (``schema_values.SchemaTooCostly``);
* it *reads* at most ``READ_CHARS`` characters of a message or tool result (it echoes,
  quotes and summarises; nothing it says needs more);
* it *lists* at most ``MAX_LISTED`` attachments or tool-result fields, then "and N more";
* its deliberate pauses between stream deltas (``chunk_delay_ms``, there so a UI shows
  streaming) add up to at most ``MAX_STREAM_PAUSE_S`` per answer.
"""

from __future__ import annotations

from switchboard.providers.offline.tokens import CHARS_PER_TOKEN

MAX_OUTPUT_TOKENS = 8_192
MAX_OUTPUT_CHARS = MAX_OUTPUT_TOKENS * CHARS_PER_TOKEN
READ_CHARS = 65_536
MAX_LISTED = 20
MAX_STREAM_PAUSE_S = 2.0
