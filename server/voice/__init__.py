"""Spatial voice through a real SFU (Janus VideoRoom, audio only).

    audible.py     who hears whom: nearest K within the radius + stage (pure, numpy)
    core.py        rooms per instance, single-use credentials, kicks, moderator mute (pure)
    messages.py    VOICE / VOICE_JOIN decoding
    janus.py       Plaza's control client of Janus' HTTP API (aiohttp)
    supervisor.py  the Janus `plaza serve` starts: generated config, restarts
    settings.py    VoiceSettings: the [voice] config table

The aiohttp side (cleanup context, control loop, /janus proxy) is server/web/voice.py.
"""
