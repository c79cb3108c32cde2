//! chat-store-sled: the durable embedded backend (SledStore). Not written yet: issue "chat-store-sled".
