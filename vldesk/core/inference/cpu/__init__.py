"""CPU speed-ups: capabilities, decode kernels, attention, quantized weights."""
