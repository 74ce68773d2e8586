"""An agent service that records every chat turn in Synap (FastAPI).

    pip install 'synap-memory[aiohttp]' fastapi uvicorn
    SYNAP_API_KEY=synap_... uvicorn examples.fastapi_service:app --workers 4

- One `AsyncSynap` for the whole app, made in the lifespan (so in each worker process, after
  any fork) and closed at shutdown; every request shares its connection pool.
- Each `POST /chat` records the user's turn, makes a reply, and records the reply.
- Safe to repeat: a client that sends an `Idempotency-Key` header and repeats the request after
  a timeout or a dropped connection gets the turns stored once. The turns' keys are derived
  from the request's key (or made up front with `synap.new_idempotency_key()`), before any
  call, so a call cancelled half-way can be repeated under the same key.
- A failure of Synap becomes a 503 (worth repeating with the same key) or a 502.

The reply is an echo: put your model call in `make_reply`. (No `from __future__ import
annotations` here: FastAPI reads the annotations at run time.)
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

import synap


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # SYNAP_API_KEY and SYNAP_BASE_URL come from the environment.
    async with synap.AsyncSynap() as client:
        app.state.synap = client
        yield


app = FastAPI(title="chat with memory", lifespan=lifespan)


class Turn(BaseModel):
    conversation_id: uuid.UUID
    user_id: str = Field(min_length=1)
    customer_id: str = Field(min_length=1)
    message: str = Field(min_length=1)


class Reply(BaseModel):
    reply: str
    session_id: str
    user_message_id: str
    assistant_message_id: str


# The request's key, as a client sends it; a suffix per turn keeps it within Synap's 255.
RequestKey = Annotated[str | None, Header(max_length=200, pattern=r"^[!-~]+$")]


def make_reply(message: str) -> str:
    return f"You said: {message}"


@app.post("/chat")
async def chat(
    turn: Turn,
    request: Request,
    idempotency_key: RequestKey = None,
    traceparent: Annotated[str | None, Header()] = None,
) -> Reply:
    client: synap.AsyncSynap = request.app.state.synap
    # Made before the first call: a repeat of this request (same header) sends the same keys.
    key = idempotency_key or synap.new_idempotency_key()
    trace = {"traceparent": traceparent} if traceparent else None  # the caller's trace, passed on
    who = {"user_id": turn.user_id, "customer_id": turn.customer_id}
    asked = await client.conversation.record_message(
        turn.conversation_id, "user", turn.message, **who,
        idempotency_key=f"{key}:user", extra_headers=trace,
    )  # fmt: skip
    reply = make_reply(turn.message)
    answered = await client.conversation.record_message(
        turn.conversation_id, "assistant", reply, **who, session_id=asked["session_id"],
        idempotency_key=f"{key}:assistant", extra_headers=trace,
    )  # fmt: skip
    return Reply(
        reply=reply,
        session_id=asked["session_id"],
        user_message_id=asked["message_id"],
        assistant_message_id=answered["message_id"],
    )


@app.exception_handler(synap.SynapError)
async def memory_failed(request: Request, error: synap.SynapError) -> JSONResponse:
    # Transient (network, timeout, 429, 5xx after the SDK's retries): the client may repeat
    # the request with the same Idempotency-Key. Anything else will not change on a repeat.
    if isinstance(error, synap.SynapTransientError):
        return JSONResponse({"detail": "memory unavailable, try again"}, status_code=503)
    return JSONResponse({"detail": f"memory refused the turn: {error}"}, status_code=502)
