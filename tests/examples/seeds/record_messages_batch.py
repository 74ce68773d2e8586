import uuid
from synap import MaximemSynapSDK

sdk = MaximemSynapSDK(api_key="synap_your_key_here")
await sdk.initialize()

# conversation_id must be a valid UUID; reuse one id across the whole transcript
conversation_id = str(uuid.uuid4())

result = await sdk.conversation.record_messages_batch(
    messages=[
        {
            "conversation_id": conversation_id,
            "role": "user",
            "content": "What's on my calendar today?",
            "user_id": "user_alice",
            "customer_id": "customer_acme",
        },
        {
            "conversation_id": conversation_id,
            "role": "assistant",
            "content": "You have two meetings and a dentist appointment.",
            "user_id": "user_alice",
            "customer_id": "customer_acme",
        },
    ]
)

print(f"Recorded {result['succeeded']} of {result['total']} messages")
