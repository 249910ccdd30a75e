// The browser phone: rings the line through /phone/step, plays what it says, sends the keys.
// The server keeps no state: each answer carries a signed `state` that the next step sends back.
// Barge-in: a key pressed while the line speaks inside a <Gather> stops the speech at once.
(() => {
  "use strict";

  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const TOKEN = meta("phone-token");
  const STEP_URL = meta("phone-step");
  const TEXT = JSON.parse(document.getElementById("phone-text").textContent);
  const audio = document.getElementById("line-audio");
  const statusEl = document.getElementById("status");
  const transcript = document.getElementById("transcript");
  const callButton = document.getElementById("call");
  const hangupButton = document.getElementById("hangup");
  const nurseSelect = document.getElementById("nurse");
  const KEYS = "0123456789*#";
  const PAUSE_CAP = 5; // seconds: the longest <Pause> the page sits through
  const NOTE_SECONDS = 1.2; // time to read a ringing / connected line before going on

  let call = null; // {state, listen, keys, listening, timer, controller}
  let run = 0; // each step, key press and hang-up starts a new run; older loops then stop
  let interrupt = null; // ends the current playback or wait early

  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
  const keyName = (key) => (key === "*" ? TEXT.key_star : key === "#" ? TEXT.key_hash : key);

  function setStatus(message) {
    statusEl.textContent = message;
  }

  function addLine(text, className, data = {}) {
    const item = document.createElement("li");
    item.textContent = text;
    item.className = className;
    for (const [name, value] of Object.entries(data)) {
      if (value !== null && value !== undefined) item.dataset[name] = value;
    }
    transcript.appendChild(item);
    item.scrollIntoView({ block: "nearest" });
    return item;
  }

  function setInCall(inCall) {
    callButton.setAttribute("aria-disabled", String(inCall));
    hangupButton.setAttribute("aria-disabled", String(!inCall));
  }

  // --- playback that a key press can cut short ---

  function stopPlayback() {
    audio.pause();
    if (window.speechSynthesis) window.speechSynthesis.cancel();
    if (interrupt) interrupt();
    interrupt = null;
  }

  function wait(seconds) {
    return new Promise((resolve) => {
      const timer = setTimeout(done, seconds * 1000);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      interrupt = done;
    });
  }

  function playAudio(url, fallbackSeconds) {
    return new Promise((resolve) => {
      const finish = () => {
        audio.onended = audio.onerror = null;
        resolve();
      };
      interrupt = finish;
      audio.onended = finish;
      audio.onerror = () => {
        audio.onended = audio.onerror = null;
        wait(fallbackSeconds).then(resolve); // show the words for as long as they would last
      };
      audio.src = url;
      audio.play().catch(() => {
        if (interrupt === finish) wait(fallbackSeconds).then(resolve);
      });
    });
  }

  function speak(text, seconds) {
    const synth = window.speechSynthesis;
    if (!synth || synth.getVoices().length === 0) return wait(seconds); // no voice: read it on screen
    return new Promise((resolve) => {
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = document.documentElement.lang || "en-GB";
      const timer = setTimeout(finish, (seconds * 1.5 + 2) * 1000); // a voice that never ends
      function finish() {
        clearTimeout(timer);
        resolve();
      }
      utterance.onend = utterance.onerror = finish;
      interrupt = () => {
        synth.cancel();
        finish();
      };
      synth.speak(utterance);
    });
  }

  async function present(event) {
    const data = { kind: event.kind, id: event.id, audio: event.audio };
    if (event.leg === "nurse") {
      if (event.kind === "say" || event.kind === "play") {
        addLine(fill(TEXT.nurse_hears, { text: event.text }), "nurse-leg", data);
      } else if (event.kind === "keys") {
        addLine(fill(TEXT.nurse_presses, { keys: event.keys }), "nurse-leg", data);
      }
      return; // the whisper is for the nurse's ear only
    }
    switch (event.kind) {
      case "play":
      case "say": {
        const line = addLine(event.text, "speech now", data);
        if (event.audio) {
          audio.dataset.id = event.id || "";
          await playAudio(event.audio, event.duration);
        } else {
          await speak(event.text, event.duration);
        }
        line.classList.remove("now");
        return;
      }
      case "keys":
        addLine(fill(TEXT.you_press, { keys: [...event.keys].map(keyName).join(" ") }), "you", data);
        return;
      case "said":
        addLine(fill(TEXT.you_say, { text: event.text }), "you", data);
        return;
      case "silence":
        return; // the page itself waited for the keys
      case "pause":
        await wait(Math.min(event.duration, PAUSE_CAP));
        return;
      case "error":
        addLine(event.text, "error", data);
        return;
      case "hangup":
        addLine(event.text, "end", data);
        return;
      default: // dial, talk, message, note: what happened, in words
        addLine(event.text, "note", data);
        await wait(NOTE_SECONDS);
    }
  }

  // --- the call ---

  async function post(body) {
    call.controller = new AbortController();
    const response = await fetch(STEP_URL, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Phone-Token": TOKEN },
      body: JSON.stringify(body),
      signal: call.controller.signal,
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch (error) {
      answer = null;
    }
    if (!response.ok || !answer) {
      throw new Error((answer && answer.error) || `HTTP ${response.status}`);
    }
    return answer;
  }

  async function step(keys, said = null) {
    const mine = ++run;
    clearTimeout(call.timer);
    call.listening = false;
    call.keys = "";
    let answer;
    try {
      answer = await post({ state: call.state, keys, say: said, nurse: nurseSelect.value });
    } catch (error) {
      if (mine === run && call) fail(error);
      return;
    }
    if (mine !== run || !call) return; // hung up, or a key cut this step short meanwhile
    call.state = answer.state;
    call.listen = answer.listen;
    setStatus(TEXT.speaking);
    for (const event of answer.events) {
      if (event.barge && !call.listening) {
        call.listening = true;
        setStatus(TEXT.listening_speaking);
      }
      await present(event);
      if (mine !== run || !call) return;
    }
    if (answer.listen) {
      call.listening = true;
      setStatus(TEXT.listening);
      call.timer = setTimeout(() => step(call.keys || null), answer.listen.timeout * 1000);
    } else {
      end(TEXT.ended);
    }
  }

  function complete(keys, listen) {
    let digits = 0;
    for (const key of keys) {
      if (listen.finishOnKey && listen.finishOnKey.includes(key)) return true;
      digits += 1;
      if (listen.numDigits && digits >= listen.numDigits) return true;
    }
    return false;
  }

  function press(key) {
    tone(key);
    if (!call) {
      setStatus(TEXT.call_first);
      return;
    }
    if (!call.listening) {
      setStatus(TEXT.not_listening);
      return;
    }
    run += 1; // the playing loop stops after the current item
    stopPlayback();
    clearTimeout(call.timer);
    call.keys += key;
    setStatus(fill(TEXT.pressed, { key: keyName(key) }));
    if (complete(call.keys, call.listen)) {
      step(call.keys);
    } else {
      // Twilio waits `timeout` seconds after each key for the next one
      call.timer = setTimeout(() => step(call.keys), call.listen.timeout * 1000);
    }
  }

  function say(words) {
    if (!call) {
      setStatus(TEXT.call_first);
      return;
    }
    if (!call.listening || !call.listen || !call.listen.speech) {
      setStatus(TEXT.not_listening_words);
      return;
    }
    run += 1; // the playing loop stops after the current item
    stopPlayback();
    step(null, words);
  }

  function startCall() {
    if (call) {
      setStatus(TEXT.in_call);
      return;
    }
    transcript.replaceChildren();
    call = { state: null, listen: null, keys: "", listening: false, timer: null, controller: null };
    setInCall(true);
    setStatus(TEXT.calling);
    step(null);
  }

  function end(message) {
    if (!call) return;
    run += 1;
    stopPlayback();
    clearTimeout(call.timer);
    if (call.controller) call.controller.abort();
    call = null;
    setInCall(false);
    setStatus(message);
  }

  function hangUp() {
    if (!call) return;
    addLine(TEXT.you_hung_up, "end you");
    end(TEXT.ended);
  }

  function fail(error) {
    addLine(fill(TEXT.failed, { error: error.message }), "error");
    end(fill(TEXT.failed, { error: error.message }));
  }

  // --- keypad tones (DTMF), quietly, so a key press is heard as on a phone ---

  const ROWS = { 1: 697, 2: 697, 3: 697, 4: 770, 5: 770, 6: 770, 7: 852, 8: 852, 9: 852, "*": 941, 0: 941, "#": 941 };
  const COLUMNS = { 1: 1209, 4: 1209, 7: 1209, "*": 1209, 2: 1336, 5: 1336, 8: 1336, 0: 1336, 3: 1477, 6: 1477, 9: 1477, "#": 1477 };
  let tones = null;

  function tone(key) {
    try {
      tones = tones || new AudioContext();
      const gain = tones.createGain();
      gain.gain.value = 0.05;
      gain.connect(tones.destination);
      for (const frequency of [ROWS[key], COLUMNS[key]]) {
        const oscillator = tones.createOscillator();
        oscillator.frequency.value = frequency;
        oscillator.connect(gain);
        oscillator.start();
        oscillator.stop(tones.currentTime + 0.15);
      }
    } catch (error) {
      // no Web Audio: the key still works, silently
    }
    const button = document.querySelector(`.key[data-key="${CSS.escape(key)}"]`);
    if (button) {
      button.classList.add("pressed");
      setTimeout(() => button.classList.remove("pressed"), 150);
    }
  }

  // --- wiring ---

  for (const button of document.querySelectorAll(".key")) {
    button.addEventListener("click", () => press(button.dataset.key));
  }
  callButton.addEventListener("click", startCall);
  hangupButton.addEventListener("click", hangUp);
  const sayForm = document.getElementById("say-form");
  const sayInput = document.getElementById("say");
  sayForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const words = sayInput.value.trim();
    if (words) say(words);
    sayInput.value = "";
  });
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target instanceof HTMLSelectElement || event.target instanceof HTMLInputElement) return;
    if (KEYS.includes(event.key) && event.key.length === 1) {
      event.preventDefault();
      press(event.key);
    } else if (event.key === "Escape") {
      hangUp();
    }
  });
})();
