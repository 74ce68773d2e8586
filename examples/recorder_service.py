"""An agent service that records both turns of every exchange without waiting for Synap.

    pip install 'synap' fastapi uvicorn
    SYNAP_API_KEY=synap_... uvicorn examples.recorder_service:app

One `AsyncSynap` client and one recorder live in the app's lifespan. A request records the
user's turn and the reply with `rec.record(...)`: a plain call that checks the turn and queues
it, with no network I/O on the request path. The recorder stores the turns in the background,
batched, each conversation in order, exactly once; the spool keeps them across a crash or a
restart. Leaving the lifespan (shutdown) flushes what is still queued.
"""

import logging
import os
import uuid
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from pydantic import BaseModel

from synap import AsyncSynap, SynapError
from synap.recorder import Turn

log = logging.getLogger("chat")
SPOOL = os.environ.get("SYNAP_RECORDER_SPOOL", "synap-turns.spool")


def report(turn: Turn, error: SynapError) -> None:
    # Rejected or permanently failed turns (bad key, missing credits, ...) land here; a
    # network outage does not: those turns stay pending and are retried.
    log.error("turn %s of conversation %s not stored: %s", turn.id, turn.conversation_id, error)


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with (
        AsyncSynap() as client,  # SYNAP_API_KEY, SYNAP_BASE_URL
        client.conversation.recorder(spool=SPOOL, on_error=report) as recorder,
    ):
        app.state.recorder = recorder
        yield


app = FastAPI(lifespan=lifespan)


class ChatRequest(BaseModel):
    user_id: str
    customer_id: str
    message: str
    conversation_id: str | None = None


def answer(message: str) -> str:
    return f"You said: {message}"  # your agent here


@app.post("/chat")
async def chat(body: ChatRequest, request: Request) -> dict[str, str]:
    recorder = request.app.state.recorder
    cid = body.conversation_id or str(uuid.uuid4())
    recorder.record(cid, "user", body.message, body.user_id, body.customer_id)
    reply = answer(body.message)
    recorder.record(cid, "assistant", reply, body.user_id, body.customer_id)
    return {"conversation_id": cid, "reply": reply}


@app.get("/recorder")
async def recorder_stats(request: Request) -> dict[str, int]:
    stats = request.app.state.recorder.stats
    return {
        "recorded": stats.recorded,
        "sent": stats.sent,
        "pending": stats.pending,
        "failed": stats.failed,
    }
