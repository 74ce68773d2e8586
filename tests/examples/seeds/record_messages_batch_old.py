from synap import MaximemSynapSDK

sdk = MaximemSynapSDK(api_key="synap_your_key_here")
await sdk.initialize()

result = await sdk.conversation.record_messages_batch(
    messages=[
        {
            "conversation_id": "conv_2026_05_16_alice",
            "role": "user",
            "content": "What's on my calendar today?",
            "user_id": "user_alice",
            "customer_id": "customer_acme",
        },
        {
            "conversation_id": "conv_2026_05_16_alice",
            "role": "assistant",
            "content": "You have two meetings and a dentist appointment.",
            "user_id": "user_alice",
            "customer_id": "customer_acme",
        },
    ]
)

print(f"Recorded {result['succeeded']} of {result['total']} messages")
