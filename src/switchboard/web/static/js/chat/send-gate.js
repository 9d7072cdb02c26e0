// When the composer may send, and a send asked for while it could not (pure: no DOM).
//
// The composer is busy while an answer is being written (until its "done" or "error":
// the answer is on screen a moment before it is saved) and while a question about the
// message is open (the "can't see pictures" choice: its dialog is gone from the screen
// a moment before the page hears its answer). An Enter pressed in such a moment used to
// be ignored without a word: the text stayed in the box, nothing was sent (browser tests
// lost messages to it on a loaded machine; so would a quick typist). Now it is kept:
// the message is sent as soon as the composer is free again, with the text the box
// holds then. Leaving the conversation, or the previous message being refused, drops it.
//
// It is busy, too, while the page opens a conversation (at start-up, or picked in the
// list): until the conversation is shown, the page cannot know whether one of its answers
// is still being written (a reload mid-answer, a second tab). A send let through then
// waited for the page, found the answer running and was dropped, the box already emptied.

export function createSendGate() {
  let streaming = false;
  let confirming = false;
  let opening = false;
  let queued = false;
  const busy = () => streaming || confirming || opening;

  /** Free again: true when a send was asked for meanwhile (it is then taken). */
  const due = () => {
    if (busy() || !queued) return false;
    queued = false;
    return true;
  };

  return {
    get busy() { return busy(); },
    get queued() { return queued; },
    /** A send is asked for: true to send now; false when busy (it is kept for later). */
    ask() {
      if (busy()) {
        queued = true;
        return false;
      }
      queued = false;
      return true;
    },
    /** An answer is being written (on) or has ended; true: send the kept message now. */
    streaming(on) {
      streaming = !!on;
      return due();
    },
    /** A question about the message is open (on) or answered; true: send now. */
    confirming(on) {
      confirming = !!on;
      return due();
    },
    /** A conversation is being opened (on) or is shown; true: send the kept message now
     * (once it is shown with an answer still being written, that answer holds it on). */
    opening(on) {
      opening = !!on;
      return due();
    },
    /** Forget a kept send (the conversation was left, the message it followed refused). */
    drop() { queued = false; },
  };
}
