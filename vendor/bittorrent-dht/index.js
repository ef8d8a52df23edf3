/*! bittorrent-dht. MIT License. WebTorrent LLC <https://webtorrent.io/opensource> */
export { default as Client, default } from './client.js'
export { default as Server } from './server.js'
