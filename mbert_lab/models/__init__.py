"""Model loading: Hugging Face encoders by id or path, and the offline default model."""
