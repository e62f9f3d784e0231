// The wire protocol's numbers are generated from server/protocol.py into the SDK
// (sdk/js/src/protocol.js, served at /sdk/protocol.js; `python -m server.protocol_js`). This
// module only re-exports that one file so the client's modules can import './protocol.js':
// never define constants here.
export * from '@plaza/sdk/protocol.js';
