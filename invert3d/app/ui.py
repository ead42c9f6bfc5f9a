"""The page (``invert3d app``): upload -> aligned crop and camera -> invert (progress, cancel) -> result, any view,
downloads -> attribute and texture edits. Each handler is one call into ``session``; every error, expected or
not, is a one-line message on the page.
"""

from __future__ import annotations

import threading
from pathlib import Path

import gradio as gr

from invert3d.app import session
from invert3d.config import METHODS, PRESETS
from invert3d.errors import Invert3dError
from invert3d.generator import TriPlaneGenerator
from invert3d.media import read_rgb

_cancelled: dict[str, threading.Event] = {}  # session hash -> set when its user pressed Stop


def _flag(request: gr.Request) -> threading.Event:
    return _cancelled.setdefault(request.session_hash or "", threading.Event())


def _error(exc: Exception) -> str:
    """A failure as the page shows it: the message of ours, the kind and message of anything else."""
    return f"**Error:** {exc}" if isinstance(exc, Invert3dError) else f"**Error:** {type(exc).__name__}: {exc}"


def _progress_listener(flag: threading.Event, progress: gr.Progress):
    """A console listener that moves the page's progress bar and stops the work once ``flag`` is set (Stop)."""
    def listener(desc: str, n: int, total: int | None) -> None:
        if flag.is_set():
            raise session.Cancelled("stopped; press the button again to resume from the last saved stage")
        progress((n, total), desc=desc)

    return listener


def build_app(G: TriPlaneGenerator, checkpoint: Path | None, workdir: Path, settings: list[str] = ()) -> gr.Blocks:
    """The app's page, inverting into ``G`` (loaded from ``checkpoint``; None: the embedded model) with the
    page's preset and ``settings`` (KEY=VALUE) over it, results under ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    device = str(next(G.parameters()).device)

    def within_workdir(path: Path) -> Path:
        path = path.resolve()
        if not path.is_relative_to(workdir):
            raise Invert3dError(f"open a result folder under the app's work folder ({workdir}); the page serves "
                                "files from there only")
        return path

    def upload(photo, already_aligned):
        if photo is None:
            return None, "", None, "Upload a photo to begin."
        try:
            prepared = session.prepare(Path(photo), workdir, G, already_aligned)
        except Exception as exc:  # noqa: BLE001 - the page shows it
            return None, "", None, _error(exc)
        return prepared.crop, prepared.camera_text, prepared, "Ready: choose a preset and press Invert."

    def run(prepared, preset_name, method, request: gr.Request, progress=gr.Progress()):
        if prepared is None:
            return (None,) * 6 + (gr.update(), _error("upload a photo first"))
        flag = _flag(request)
        try:
            folder = session.invert(prepared, G, preset_name, method, checkpoint, _progress_listener(flag, progress),
                                    settings)
            return _shown(folder) + (f"Done: {folder.root}",)
        except Exception as exc:  # noqa: BLE001 - the page shows it
            return (None,) * 6 + (gr.update(), _error(exc))
        finally:
            flag.clear()  # a Stop pressed while queued still stops this run; none is left for the next

    def _shown(folder):
        names = session.attributes(folder)
        return (str(folder.root), read_rgb(folder.reconstruction), read_rgb(folder.input), str(folder.orbit),
                read_rgb(folder.pseudo_views) if folder.pseudo_views.is_file() else None,
                [str(folder.mesh), str(session.zipped(folder))],
                gr.update(choices=names, value=names[0] if names else None))

    def reopen(path):
        try:
            return _shown(session.open_result(within_workdir(Path(path.strip())))) + (f"Opened {path.strip()}",)
        except Exception as exc:  # noqa: BLE001 - the page shows it
            return (None,) * 6 + (gr.update(), _error(exc))

    def view(root, yaw, pitch):
        if not root:  # nothing to show (an inversion that failed has said why)
            return None, gr.update()
        try:
            image = session.render_view(session.open_result(Path(root)), yaw, pitch, device)
        except Exception as exc:  # noqa: BLE001 - the page shows it
            return None, _error(exc)
        return image, f"View at yaw {yaw:+.2f}, pitch {pitch:+.2f} rad of {root}"

    def edit(root, attribute, strength, yaw, pitch):
        if not root or not attribute:
            return None, _error("invert or open a result with edit directions first")
        try:
            edited = session.attribute_edit(session.open_result(Path(root)), attribute, strength, device)
            return (session.render_view(edited, yaw, pitch, device),
                    f"Edited {attribute} by {strength:+g}: {edited.root}")
        except Exception as exc:  # noqa: BLE001 - the page shows it
            return None, _error(exc)

    def paint(root, painted, yaw, pitch, request: gr.Request, progress=gr.Progress()):
        if not root or painted is None:
            return None, _error("invert a result and upload its painted input photo first")
        flag = _flag(request)
        try:
            edited = session.texture_edit(session.open_result(Path(root)), Path(painted),
                                          _progress_listener(flag, progress), device)
            return session.render_view(edited, yaw, pitch, device), f"Texture edit: {edited.root}"
        except Exception as exc:  # noqa: BLE001 - the page shows it
            return None, _error(exc)
        finally:
            flag.clear()

    def stop(request: gr.Request):
        _flag(request).set()
        return "Stopping at the next step..."

    with gr.Blocks(title="invert3d") as app:
        gr.Markdown("# invert3d\nOne photo in, an editable 3D result out (EG3D inversion by pseudo-multi-view "
                    "optimization).")
        prepared = gr.State(None)
        root = gr.Textbox(visible=False, elem_id="result-root")
        status = gr.Markdown("Upload a photo to begin.", elem_id="status")
        with gr.Row():
            with gr.Column():
                photo = gr.Image(type="filepath", label="Photo (raw or an aligned crop)", elem_id="photo")
                already_aligned = gr.Checkbox(False, label="Already an aligned crop (use the frontal camera)")
                crop = gr.Image(label="What the generator sees", interactive=False, elem_id="crop")
                camera = gr.Markdown(elem_id="camera")
            with gr.Column():
                preset_choice = gr.Radio(list(PRESETS), value="fast", label="Preset")
                method_choice = gr.Radio(list(METHODS), value="hfgi3d", label="Method")
                with gr.Row():
                    invert_button = gr.Button("Invert", variant="primary", elem_id="invert")
                    stop_button = gr.Button("Stop", elem_id="stop")
                existing = gr.Textbox(label="Or open a result folder", placeholder="/path/to/result")
                open_button = gr.Button("Open", elem_id="open")
        with gr.Row():
            reconstruction = gr.Image(label="Reconstruction", interactive=False, elem_id="reconstruction")
            original = gr.Image(label="Input", interactive=False, elem_id="input")
            novel = gr.Image(label="Any view", interactive=False, elem_id="view")
        with gr.Row():
            yaw = gr.Slider(-0.8, 0.8, value=0.3, step=0.05, label="Yaw (rad)", elem_id="yaw")
            pitch = gr.Slider(-0.4, 0.4, value=0.0, step=0.05, label="Pitch (rad)", elem_id="pitch")
            view_button = gr.Button("Render view", elem_id="render")
        with gr.Row():
            orbit = gr.Video(label="Orbit", elem_id="orbit")
            pseudo = gr.Image(label="Pseudo views", interactive=False, elem_id="pseudo")
            downloads = gr.File(label="Mesh and result folder", file_count="multiple", elem_id="downloads")
        with gr.Row():
            attribute = gr.Dropdown([], label="Attribute", elem_id="attribute")
            strength = gr.Slider(-3, 3, value=1.5, step=0.25, label="Strength (sd)", elem_id="strength")
            edit_button = gr.Button("Edit", elem_id="edit")
            painted = gr.Image(type="filepath", label="Painted copy of the input (texture edit)", elem_id="painted")
            paint_button = gr.Button("Texture edit", elem_id="paint")

        shown = [root, reconstruction, original, orbit, pseudo, downloads, attribute, status]
        photo.change(upload, [photo, already_aligned], [crop, camera, prepared, status])
        already_aligned.change(upload, [photo, already_aligned], [crop, camera, prepared, status])
        run_event = invert_button.click(run, [prepared, preset_choice, method_choice], shown)
        stop_button.click(stop, None, status)
        run_event.then(view, [root, yaw, pitch], [novel, status])
        open_button.click(reopen, existing, shown).then(view, [root, yaw, pitch], [novel, status])
        view_button.click(view, [root, yaw, pitch], [novel, status])
        edit_button.click(edit, [root, attribute, strength, yaw, pitch], [novel, status])
        paint_button.click(paint, [root, painted, yaw, pitch], [novel, status])
    return app
