import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Camera from './Camera.svelte';
import { setLocale } from '../i18n/i18n.svelte';

// jsdom has no camera, no video playback, no canvas and no object URLs: each is replaced by a
// stand-in that records what the component does with it.
function fakeStream() {
  const tracks = [{ stop: vi.fn() }, { stop: vi.fn() }];
  return { tracks, stream: { getTracks: () => tracks } as unknown as MediaStream };
}

function cameraGives(result: () => Promise<MediaStream>) {
  const getUserMedia = vi.fn(result);
  Object.defineProperty(navigator, 'mediaDevices', { value: { getUserMedia }, configurable: true });
  return getUserMedia;
}

describe('Camera', () => {
  beforeEach(() => {
    setLocale('en');
    vi.spyOn(HTMLMediaElement.prototype, 'play').mockResolvedValue(undefined);
    URL.createObjectURL = vi.fn(() => 'blob:photo');
    URL.revokeObjectURL = vi.fn();
  });
  afterEach(() => {
    cleanup();
    vi.restoreAllMocks();
    Reflect.deleteProperty(navigator, 'mediaDevices');
  });

  it('shows the live picture and stops every track when closed', async () => {
    const { tracks, stream } = fakeStream();
    const getUserMedia = cameraGives(async () => stream);
    const onclose = vi.fn();
    render(Camera, { onphoto: vi.fn(), onclose });
    await screen.findByRole('button', { name: 'Take photo' });
    expect(getUserMedia).toHaveBeenCalledWith(expect.objectContaining({ audio: false }));
    const video = screen.getByLabelText('What the camera sees') as HTMLVideoElement;
    await waitFor(() => expect(video.srcObject).toBe(stream));
    expect(tracks.some((t) => t.stop.mock.calls.length > 0)).toBe(false);
    await fireEvent.click(screen.getByRole('button', { name: 'Close the camera' }));
    expect(tracks.every((t) => t.stop.mock.calls.length === 1)).toBe(true);
    expect(onclose).toHaveBeenCalledOnce();
  });

  it('stops the tracks when it goes away without being closed', async () => {
    const { tracks, stream } = fakeStream();
    cameraGives(async () => stream);
    const { unmount } = render(Camera, { onphoto: vi.fn(), onclose: vi.fn() });
    await screen.findByRole('button', { name: 'Take photo' });
    unmount();
    expect(tracks.every((t) => t.stop.mock.calls.length === 1)).toBe(true);
  });

  it('stops a camera that starts after it went away', async () => {
    const { tracks, stream } = fakeStream();
    let start!: (s: MediaStream) => void;
    cameraGives(() => new Promise((resolve) => (start = resolve)));
    const { unmount } = render(Camera, { onphoto: vi.fn(), onclose: vi.fn() });
    await waitFor(() => expect(start).toBeTypeOf('function'));
    unmount();
    start(stream);
    await waitFor(() => expect(tracks.every((t) => t.stop.mock.calls.length === 1)).toBe(true));
  });

  it('takes a JPEG, lets the person look at it, and hands it over', async () => {
    const { tracks, stream } = fakeStream();
    cameraGives(async () => stream);
    const drawImage = vi.fn();
    vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue({ drawImage } as unknown as CanvasRenderingContext2D);
    const jpeg = new Blob([new Uint8Array([0xff, 0xd8, 0xff])], { type: 'image/jpeg' });
    const toBlob = vi.spyOn(HTMLCanvasElement.prototype, 'toBlob').mockImplementation((done) => done(jpeg));
    const onphoto = vi.fn();
    render(Camera, { onphoto, onclose: vi.fn() });
    const shoot = await screen.findByRole('button', { name: 'Take photo' });
    const video = screen.getByLabelText('What the camera sees') as HTMLVideoElement;
    Object.defineProperty(video, 'videoWidth', { value: 1280 });
    Object.defineProperty(video, 'videoHeight', { value: 720 });
    await fireEvent(video, new Event('loadedmetadata'));
    await fireEvent.click(shoot);
    const photo = (await screen.findByAltText('The photo you took')) as HTMLImageElement;
    expect(photo.getAttribute('src')).toBe('blob:photo');
    expect(toBlob).toHaveBeenCalledWith(expect.any(Function), 'image/jpeg', 0.9);
    expect(drawImage).toHaveBeenCalledWith(video, 0, 0, 1280, 720);
    // Taking it again goes back to the live picture and frees the first photo.
    await fireEvent.click(screen.getByRole('button', { name: 'Take it again' }));
    expect(URL.revokeObjectURL).toHaveBeenCalledWith('blob:photo');
    await fireEvent.click(await screen.findByRole('button', { name: 'Take photo' }));
    await fireEvent.click(await screen.findByRole('button', { name: 'Use this photo' }));
    expect(onphoto).toHaveBeenCalledWith(jpeg);
    expect(tracks.every((t) => t.stop.mock.calls.length === 1)).toBe(true);
  });

  it('says so in plain words when the camera cannot be opened', async () => {
    cameraGives(() => Promise.reject(new DOMException('busy', 'NotReadableError')));
    render(Camera, { onphoto: vi.fn(), onclose: vi.fn() });
    expect((await screen.findByTestId('camera-error')).textContent).toMatch(/^The camera could not be opened/);
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Take photo' })).toBeNull();
  });

  it('tells a refused permission apart', async () => {
    cameraGives(() => Promise.reject(new DOMException('no', 'NotAllowedError')));
    render(Camera, { onphoto: vi.fn(), onclose: vi.fn() });
    expect((await screen.findByTestId('camera-error')).textContent).toMatch(/not allowed to use the camera/);
  });
});
