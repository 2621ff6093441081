"""Teaching lab: simulate a phantom, compare the true and the virtual elastograms; a scoring quiz.

Open to every role (viewer included). Nothing here is written to the clinical store.
"""

import streamlit as st

from pages._common import available_modes, get_elastographer, require_role, virtual_badge
from usegan.services import teaching
from usegan.ui.overlay import outline
from usegan.vocab import Mode

require_role("teaching")
st.title("Teaching lab")
lab_tab, quiz_tab, about_tab = st.tabs(["Phantom lab", "Quiz", "Strain vs shear-wave"])


@st.cache_data(max_entries=32, show_spinner="Simulating the phantom...")
def simulate(lesion_type: str, size_mm: float, depth_mm: float, ratio: float, shape: str, seed: int):
    return teaching.lab_case(lesion_type, size_mm, depth_mm, ratio, shape, seed)


with lab_tab:
    c1, c2, c3, c4, c5, c6 = st.columns(6)
    lesion_type = c1.selectbox("Lesion type", teaching.LAB_LESION_TYPES, index=2, key="teaching_type")
    shape = c2.selectbox("Shape", teaching.LAB_SHAPES, index=1, key="teaching_shape")
    size_mm = c3.slider("Size, mm", 4.0, 20.0, 10.0, 0.5, key="teaching_size")
    depth_mm = c4.slider("Depth, mm", 10.0, 30.0, 16.0, 0.5, key="teaching_depth")
    ratio = c5.slider("Stiffness vs gland (x)", 0.3, 10.0, 4.0, 0.1, key="teaching_ratio")
    seed = c6.number_input("Seed", 0, 10_000, 0, key="teaching_seed")
    case = simulate(lesion_type, size_mm, depth_mm, ratio, shape, int(seed))
    models = {m: get_elastographer(m) for m in available_modes()}
    lab = teaching.run_lab(case, models)
    cols = st.columns(5)
    cols[0].image(case.bmode, caption="Simulated B-mode", width="stretch")
    cols[1].image(case.strain_rgb, caption="TRUE strain (red soft, blue hard)", width="stretch")
    cols[2].image(case.swe_rgb, caption="TRUE shear-wave (blue soft, red stiff)", width="stretch")
    for col, mode in zip(cols[3:], Mode, strict=True):
        if mode in lab.virtual:
            col.image(
                lab.virtual[mode], caption=f"VIRTUAL {mode.upper()} - model {lab.versions[mode]}", width="stretch"
            )
        else:
            col.info(f"No {mode} model installed.")
    labels = case.labels
    st.markdown(
        f"**Truth**: Tsukuba **{labels.get('tsukuba') or '-'}**, strain ratio "
        f"{labels['strain_ratio']:.2f} · Emean {labels['emean_kpa']:.0f} kPa · Emax {labels['emax_kpa']:.0f} kPa"
        if labels.get("has_lesion") and labels.get("strain_ratio") is not None
        else f"**Truth**: Tsukuba {labels.get('tsukuba') or '-'}"
    )
    virtual_badge("Virtual images are a model's estimate; the bundled model was trained on phantoms only.")

with quiz_tab:
    st.session_state.setdefault("teaching_quiz_seed", 1)
    quiz = teaching.quiz_case(st.session_state["teaching_quiz_seed"])
    c1, c2 = st.columns(2)
    c1.image(quiz.bmode, caption="B-mode", width="stretch")
    c2.image(
        outline(quiz.strain_rgb, {"lesion": quiz.mask}, {"lesion": "#ffffff"}, 1),
        caption="Strain elastogram (white outline: the lesion)",
        width="stretch",
    )
    answer = st.radio("Your Tsukuba score", [1, 2, 3, 4, 5], horizontal=True, index=None, key="teaching_answer")
    b1, b2 = st.columns([1, 5])
    if b1.button("Check", type="primary", disabled=answer is None, key="teaching_check"):
        correct, text = teaching.grade_answer(answer, quiz)
        (st.success if correct else st.warning)(text)
    if b2.button("Next case", key="teaching_next"):
        st.session_state["teaching_quiz_seed"] += 1
        st.session_state.pop("teaching_answer", None)
        st.rerun()

with about_tab:
    st.markdown(teaching.EXPLANATION)
