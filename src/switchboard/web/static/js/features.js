/**
 * Features an admin turned off for this person (Settings → Features), as the server
 * rendered the page (`data-features-off` on <body>, names separated by spaces). The page
 * hides their controls rather than offering what the server would refuse; a change
 * takes effect on the next page load.
 */
const off = new Set((document.body?.dataset.featuresOff || "").split(/\s+/).filter(Boolean));

/** Whether feature `name` (a flag's name) is on for the person using the page. */
export const featureOn = (name) => !off.has(name);
