// @plaza/sdk: the Plaza wire protocol (generated from server/protocol.py) and a client for it.
export * from './protocol.js';
export * from './client.js';
