// Screen timing for `./dev bench screens`: a screen is "interactive" once its data came from the
// vault and the first frame with it has been painted. Uses the standard User Timing API, so the
// figures can be read from the page (performance.getEntriesByName) and cost nothing otherwise.

/** Navigation to `screen` starts now. */
export function screenStart(screen: string): void {
  performance.clearMarks(`screen:${screen}:start`);
  performance.mark(`screen:${screen}:start`);
}

/** `screen` has its data on screen: measured after the next painted frame. */
export function screenReady(screen: string): void {
  requestAnimationFrame(() =>
    setTimeout(() => {
      const start = `screen:${screen}:start`;
      if (performance.getEntriesByName(start, 'mark').length === 0) return;
      performance.measure(`screen:${screen}`, start);
      performance.clearMarks(start);
    }, 0),
  );
}
