//! chat-http: the axum router, real time and the chat-server binary. Not written yet: issues "chat-http".
