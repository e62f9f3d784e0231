// Mirror of server/protocol.py (protocol version 1). Keep the numbers in sync with the server;
// docs/protocol.md is the prose version.

export const PROTOCOL_VERSION = 1;
export const SUPPORTED_VERSIONS = [1];

export const MAX_FRAME_BYTES = 16 * 1024;
export const MAX_NAME_CHARS = 32;
export const MAX_CHAT_CHARS = 500;
export const MAX_REASON_CHARS = 500;
export const RATE_LIMIT_PER_S = 120;
export const RATE_LIMIT_BURST = 240;
export const FLOOD_CLOSE_AFTER = 200;
export const SLOW_CLIENT_BUFFER_BYTES = 256 * 1024;
export const SLOW_CLIENT_CLOSE_S = 5;
export const HELLO_TIMEOUT_S = 10;
export const MAX_SPEED_M_S = 10.0;
export const MAX_HAND_REACH_M = 2.0;
export const POS_UNIT_M = 0.001;
export const ROT_SCALE = 4095;
export const TIME_UNIT_MS = 1;

export const Msg = Object.freeze({
  HELLO: 1, POSE: 2, GRAB: 3, OBJECT_MOVE: 4, RELEASE: 5, CHAT: 6, PING: 7, TELEPORT: 8, TRAVEL: 9,
  MODERATE: 10, REPORT: 11, HOST: 12, RSVP: 13,
  WELCOME: 64, STATE: 65, GRAB_RESULT: 66, CHAT_MSG: 67, PRESENCE: 68, PONG: 69, ERROR: 70,
  TELEPORTED: 71, WORLD_UPDATE: 72, NOTICE: 73, SUGGESTIONS: 74,
});

export const ErrorCode = Object.freeze({
  MALFORMED: 1, UNKNOWN_TYPE: 2, BAD_FIELD: 3, NOT_FINITE: 4, OUT_OF_BOUNDS: 5, TOO_FAST: 6,
  RATE_LIMITED: 7, NOT_JOINED: 8, ALREADY_JOINED: 9, UNKNOWN_WORLD: 10, UNKNOWN_OBJECT: 11,
  NOT_GRABBABLE: 12, HELD_BY_OTHER: 13, NOT_HOLDER: 14, TOO_LONG: 15, FORBIDDEN: 16, INTERNAL: 99,
});
export const ErrorName = Object.freeze(Object.fromEntries(Object.entries(ErrorCode).map(([k, v]) => [v, k])));

export const CloseCode = Object.freeze({
  NORMAL: 1000, GOING_AWAY: 1001, TOO_BIG: 1009, UNSUPPORTED_VERSION: 4000, HELLO_TIMEOUT: 4001,
  BAD_HELLO: 4002, UNKNOWN_WORLD: 4003, FLOODING: 4004, SLOW_CLIENT: 4005, WORLD_CLOSED: 4006,
  KICKED: 4007, NOT_BINARY: 4008, PROTOCOL_ERROR: 4009, UNAUTHORIZED: 4010, REFUSED: 4011,
});

// Close codes after which reconnecting with the same HELLO cannot help.
export const FATAL_CLOSES = new Set([
  CloseCode.UNSUPPORTED_VERSION, CloseCode.BAD_HELLO, CloseCode.UNKNOWN_WORLD, CloseCode.KICKED,
  CloseCode.REFUSED,
]);

export const EntityKind = Object.freeze({ AVATAR: 0, OBJECT: 1 });

export const AvatarField = Object.freeze({
  HEAD_P: 1, HEAD_Q: 2, LEFT_P: 4, LEFT_Q: 8, RIGHT_P: 16, RIGHT_Q: 32, TS: 64,
});
export const ObjectField = Object.freeze({ P: 1, Q: 2, HOLDER: 4 });
export const ABSOLUTE = 128;

// [bit, first index in the entity's integer array, count]: values follow in bit order.
// Same layout as server/world.py AVATAR_GROUPS / OBJECT_GROUPS (see server/mirror.py).
export const AVATAR_GROUPS = [[1, 0, 3], [2, 3, 4], [4, 7, 3], [8, 10, 4], [16, 14, 3], [32, 17, 4], [64, 21, 1]];
export const OBJECT_GROUPS = [[1, 0, 3], [2, 3, 4], [4, 7, 1]];
export const N_VALUES = 22;

export const Presence = Object.freeze({ JOINED: 1, LEFT: 2 });
export const NoticeKind = Object.freeze({
  INFO: 1, WORLD_RELOADED: 2, WORLD_FILE_ERROR: 3, MODERATION: 4, EVENT: 5, PINNED: 6,
});
