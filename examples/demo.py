"""synap in one page: record a conversation, backfill another, ingest documents.

    SYNAP_BASE_URL=http://127.0.0.1:PORT SYNAP_API_KEY=synap_... python examples/demo.py

`./scripts/demo.sh` starts a local Synap server (`synap serve`) and runs this file against
it; any Synap works (the hosted service too: set SYNAP_API_KEY and leave SYNAP_BASE_URL
unset). The clients read both variables themselves.

1. A live chat, recorded turn by turn as it happens, with the blocking client (`Synap`).
2. An earlier chat backfilled in one batch with the async client (`AsyncSynap`).
3. A few documents bootstrap-ingested in one batch (`memories.batch_create`).
"""

from __future__ import annotations

import asyncio
import sys
import uuid

import synap
from synap.memories.models import CreateMemoryRequest

USER_ID = "user_alice"
CUSTOMER_ID = "customer_acme"  # required on B2B instances (the local server's default)


def record_live_chat(client: synap.Synap) -> str:
    """Record each turn as it happens; all turns share one conversation id (a UUID)."""
    conversation_id = str(uuid.uuid4())
    turns = [
        ("user", "Hi! I'm planning a trip to Lisbon in May."),
        ("assistant", "Lovely. Shall I keep to vegetarian places, as before?"),
        ("user", "Yes please, and I'd rather walk than take taxis."),
        ("assistant", "Noted: vegetarian, on foot. I'll plan around Alfama and Baixa."),
    ]
    for role, content in turns:
        result = client.conversation.record_message(
            conversation_id=conversation_id,
            role=role,
            content=content,
            user_id=USER_ID,
            customer_id=CUSTOMER_ID,
            metadata={"channel": "demo"},
        )
        print(
            f"  {role:<9} -> message {result['message_id']}, "
            f"turn {result.get('conversation_message_count', '?')}, at {result['recorded_at']}"
        )
    return conversation_id


async def backfill_and_ingest(client: synap.AsyncSynap) -> None:
    """Backfill a finished chat in one call, then ingest documents in one call."""
    conversation_id = str(uuid.uuid4())
    transcript = [
        ("user", "What's on my calendar today?"),
        ("assistant", "You have two meetings and a dentist appointment."),
        ("user", "Move the dentist to Friday, please."),
    ]
    print("\n2. Backfill an earlier chat in one batch (AsyncSynap)")
    result = await client.conversation.record_messages_batch(
        messages=[
            {
                "conversation_id": conversation_id,
                "role": role,
                "content": content,
                "user_id": USER_ID,
                "customer_id": CUSTOMER_ID,
            }
            for role, content in transcript
        ]
    )
    print(f"  Recorded {result['succeeded']} of {result['total']} messages")
    print(f"  conversation {conversation_id}")
    for entry in result["results"]:
        print(f"    {entry.get('message_id') or entry.get('error')}")

    print("\n3. Bootstrap-ingest documents in one batch (memories.batch_create)")
    batch = await client.memories.batch_create(
        documents=[
            CreateMemoryRequest(
                document="User: My favorite color is blue.\nAssistant: Noted!",
                document_type="ai-chat-conversation",
                user_id=USER_ID,
                customer_id=CUSTOMER_ID,
                mode="fast",
            ),
            CreateMemoryRequest(
                document="Alice works at Acme Corp as a senior engineer.",
                document_type="document",
                user_id=USER_ID,
                customer_id=CUSTOMER_ID,
            ),
            CreateMemoryRequest(
                document={"subject": "Offsite", "body": "The team offsite moves to Lisbon."},
                document_type="email",
                document_id="email-2026-05-offsite",
                user_id=USER_ID,
                customer_id=CUSTOMER_ID,
            ),
        ],
        fail_fast=False,
    )
    print(f"  {batch.succeeded}/{batch.total} queued (batch {batch.batch_id})")
    for item in batch.results:
        print(f"    {item.document_id}: {item.status.value}, ingestion {item.ingestion_id}")


def main() -> int:
    try:
        with synap.Synap() as client:  # SYNAP_API_KEY, SYNAP_BASE_URL
            print(f"Synap at {client.base_url}")
            print("\n1. Record a live chat turn by turn (Synap, blocking)")
            conversation_id = record_live_chat(client)
            print(f"  conversation {conversation_id}")

        async def async_part() -> None:
            async with synap.AsyncSynap() as client:
                await backfill_and_ingest(client)

        asyncio.run(async_part())
    except synap.SynapError as error:  # every error of the SDK is one
        print(f"demo: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
