"""Audio in/out: WAV files, microphone and file sources, the VAD endpointer and the player."""
