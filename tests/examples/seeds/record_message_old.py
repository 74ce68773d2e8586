from synap import MaximemSynapSDK

sdk = MaximemSynapSDK(api_key="synap_your_key_here")
await sdk.initialize()

await sdk.conversation.record_message(
    conversation_id="conv_2026_05_16_alice",
    role="user",
    content="I prefer dark mode and concise answers.",
    user_id="user_alice",
    customer_id="customer_acme",
    metadata={"channel": "web"},
)

await sdk.conversation.record_message(
    conversation_id="conv_2026_05_16_alice",
    role="assistant",
    content="Got it — I'll keep answers short and assume dark mode.",
    user_id="user_alice",
    customer_id="customer_acme",
)
