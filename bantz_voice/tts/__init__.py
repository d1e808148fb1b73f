"""Text to speech: the reply chunker and the Piper voice."""
