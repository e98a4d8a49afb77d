// The two IPC channels between the preload and the main process; nothing else crosses.
//
//   renderer → main  ipcRenderer.invoke(CALL_CHANNEL, method, params) → an ApiResponse (never a rejection
//                    for an API error: errors are data)
//   main → renderer  webContents.send(EVENT_CHANNEL, {event, payload}), an ApiEventMessage

/** One API call; the main process answers it with an ApiResponse. */
export const CALL_CHANNEL = 'quorum:call';
/** One event of the peer, sent to every window. */
export const EVENT_CHANNEL = 'quorum:event';
