// Versions of a message (decision 0043: a conversation is a tree): a regenerated answer
// or an edited question is a sibling of the earlier one; `message.versions` lists the ids
// of a message and its siblings, oldest first. Pure, so the index arithmetic is unit-tested.

/**
 * Where `message` sits among its versions: {index (1-based), count, previous, next} with
 * the ids to show for ‹ and › (null at either end), or null when it has no other version.
 */
export function versionPosition(message) {
  const versions = Array.isArray(message?.versions) ? message.versions : [];
  if (versions.length < 2) return null;
  const at = versions.indexOf(message.id);
  if (at < 0) return null; // a view older than its versions list: show no control
  return {
    index: at + 1,
    count: versions.length,
    previous: at > 0 ? versions[at - 1] : null,
    next: at < versions.length - 1 ? versions[at + 1] : null,
  };
}

/** "2 / 3", and the words a screen reader says for it. */
export function versionLabel(position) {
  return {
    text: `${position.index} / ${position.count}`,
    spoken: `Version ${position.index} of ${position.count}`,
  };
}
