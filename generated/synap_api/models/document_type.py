from enum import StrEnum


class DocumentType(StrEnum):
    AI_CHAT_CONVERSATION = "ai-chat-conversation"
    AUDIO = "audio"
    DOCUMENT = "document"
    EMAIL = "email"
    IMAGE = "image"
    MEETING_TRANSCRIPT = "meeting-transcript"
    PDF = "pdf"

    def __str__(self) -> str:
        return str(self.value)
