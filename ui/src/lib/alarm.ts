// The in-app alarm: a beep that repeats until every alerted emergency is acknowledged
// (desktop notifications have no sound of their own). Louder and faster once escalated.
// `body[data-alarm]` says whether it is sounding (`on`, `snoozed`, `off`), for officers'
// screen readers and tests.

let context: AudioContext | null = null;
let timer: number | undefined;
let currentLevel = 0;

function beep(level: number): void {
  try {
    context ??= new AudioContext();
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.type = 'square';
    osc.frequency.value = level >= 2 ? 1046 : 880;
    gain.gain.value = Math.min(0.6, 0.15 * level);
    osc.connect(gain).connect(context.destination);
    const now = context.currentTime;
    osc.start(now);
    osc.stop(now + 0.25);
  } catch {
    // No audio device (a virtual display): the banner still shows the alarm.
  }
}

/** Sounds (or stops) the alarm; a snoozed alarm is active but silent. */
export function setAlarm(active: boolean, level: number, snoozed = false): void {
  document.body.dataset.alarm = active ? (snoozed ? 'snoozed' : 'on') : 'off';
  if (!active || snoozed) {
    if (timer !== undefined) window.clearInterval(timer);
    timer = undefined;
    currentLevel = 0;
    return;
  }
  if (timer !== undefined && level === currentLevel) return;
  if (timer !== undefined) window.clearInterval(timer);
  currentLevel = level;
  beep(level);
  timer = window.setInterval(() => beep(level), level >= 2 ? 1000 : 2500);
}
