"""The llama.cpp engine: GGUF models on the CPU through llama-cpp-python."""
