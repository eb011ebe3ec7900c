// The camera: getUserMedia frames decoded by jsQR (npm, served at /vendor/jsqr/) until a QR reads.
let decoder = null;

function loadDecoder() {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  decoder ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/vendor/jsqr/jsQR.js";
    script.onload = () => (window.jsQR ? resolve(window.jsQR) : reject(new Error("jsQR missing")));
    script.onerror = () => { decoder = null; reject(new Error("QR decoder unavailable")); };
    document.head.append(script);
  });
  return decoder;
}

/** Show the camera inside `container`; resolve with the first QR text read. */
export async function startScanner(container) {
  const jsQR = await loadDecoder();
  if (!navigator.mediaDevices?.getUserMedia) throw new Error("no camera API");
  const stream = await navigator.mediaDevices.getUserMedia(
    { video: { facingMode: "environment" }, audio: false });
  const video = document.createElement("video");
  video.setAttribute("playsinline", "");
  video.setAttribute("aria-label", "camera");
  video.muted = true;
  video.srcObject = stream;
  container.append(video);
  await video.play();
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  try {
    return await new Promise((resolve) => {
      const tick = () => {
        if (video.videoWidth) {
          canvas.width = video.videoWidth; canvas.height = video.videoHeight;
          ctx.drawImage(video, 0, 0);
          const frame = ctx.getImageData(0, 0, canvas.width, canvas.height);
          const code = jsQR(frame.data, frame.width, frame.height);
          if (code?.data) { resolve(code.data); return; }
        }
        requestAnimationFrame(tick);
      };
      tick();
    });
  } finally {
    stream.getTracks().forEach((track) => track.stop());
    video.remove();
  }
}
