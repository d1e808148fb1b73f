"""The voice loop's parts: the :class:`~bantz_voice.voice.listener.Listener` (frames in,
utterances out), the :class:`~bantz_voice.voice.recognizer.Recognizer` (ASR), the
:class:`~bantz_voice.voice.gate.Gate`, the :class:`~bantz_voice.voice.turn.Turn` and its
:class:`~bantz_voice.voice.runner.TurnRunner`, the
:class:`~bantz_voice.voice.output.SpeechOutput` (text → speech) and the typed
:mod:`~bantz_voice.voice.events`. :class:`bantz_voice.pipeline.VoicePipeline` composes them."""
