from synap import MaximemSynapSDK
from synap.memories.models import CreateMemoryRequest

sdk = MaximemSynapSDK(api_key="synap_your_key_here")
await sdk.initialize()

batch = await sdk.memories.batch_create(
    documents=[
        CreateMemoryRequest(
            document="User: My favorite color is blue.\nAssistant: Noted!",
            document_type="ai-chat-conversation",
            user_id="user_789",
            customer_id="cust_456",
            mode="fast",
        ),
        CreateMemoryRequest(
            document="User: I work at Acme Corp as a senior engineer.",
            document_type="ai-chat-conversation",
            user_id="user_789",
            customer_id="cust_456",
            mode="fast",
        ),
    ],
    fail_fast=False,
)
print(f"{batch.succeeded}/{batch.total} queued")
