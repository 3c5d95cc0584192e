// The browser's memory of the tour, for lab/tour.py: localStorage outlives the tab and the
// server's session, so a dismissed tour stays dismissed in this browser.
//
// Python asks with `data` = {request, write, storageKey, box}: `write` is null (only read),
// "dismissed" (store the dismissal) or "cleared" (forget it, and bring the tour's box into
// view). The answer is the state value `answer` = {request, dismissed}, where `dismissed` is
// null when this browser keeps nothing (storage blocked): the tab then remembers on its own.
export default function ({ data, setStateValue }) {
  let dismissed = null;
  try {
    if (data.write === "dismissed") {
      window.localStorage.setItem(data.storageKey, "dismissed");
    } else if (data.write === "cleared") {
      window.localStorage.removeItem(data.storageKey);
    }
    dismissed = window.localStorage.getItem(data.storageKey) === "dismissed";
  } catch (blocked) {
    dismissed = null;
  }
  if (data.write === "cleared") {
    // Asked from the bottom of the page: bring the tour into view (centred, clear of the
    // page's fixed header).
    document.querySelector(`.st-key-${data.box}`)?.scrollIntoView({block: "center"});
  }
  setStateValue("answer", {request: data.request, dismissed});
}
