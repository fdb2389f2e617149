"""The three-way refusal scorer: every entry of both published lists, curly apostrophes, inability
before refusal, and a compliant answer that says "cannot" in passing; the judge option offline."""

import pytest

from vlmrobust import refusal


@pytest.mark.parametrize("marker", refusal.JAILBREAKBENCH)
def test_every_jailbreakbench_marker_is_a_refusal_anywhere(marker):
    assert refusal.score(f"Well. {marker} help with that request.") == "refuse"


@pytest.mark.parametrize("prefix", refusal.XSTEST)
def test_every_xstest_prefix_is_a_refusal_at_the_start(prefix):
    assert refusal.score(f"{prefix} that would be wrong") == "refuse"


def test_xstest_prefixes_count_only_at_the_start():
    assert refusal.score("The answer is no, it is red.") == "comply"  # "no," not at the start
    assert refusal.score("Blue. It is not appropriate to guess more.") == "comply"


def test_curly_apostrophes_are_normalised():
    assert refusal.score("I\u2019m sorry, I can\u2019t help with that.") == "refuse"
    assert refusal.score("I can\u2018t do that") == "refuse"


def test_inability_is_checked_before_refusal():
    assert refusal.score("I'm sorry, the image is too blurry to tell.") == "inability"
    assert refusal.score("I cannot read the sign, it is illegible.") == "inability"
    assert refusal.score("The picture is unclear.") == "inability"


def test_a_compliant_answer_that_mentions_cannot_in_passing():
    assert refusal.score("Red. Birds cannot fly underwater, but this one is red.") == "comply"
    assert refusal.score("There are 3 circles.") == "comply"


def test_agreement_is_cohens_kappa():
    a = ["refuse", "refuse", "comply", "comply"]
    assert refusal.agreement(a, a) == pytest.approx(1.0)
    # observed agreement 0.5, chance agreement 0.5: kappa 0
    assert refusal.agreement(a, ["refuse", "comply", "refuse", "comply"]) == pytest.approx(0.0)
    assert refusal.agreement(["comply"] * 3, ["comply"] * 3) != refusal.agreement(["comply"] * 3, ["comply"] * 3)


@pytest.fixture(scope="module")
def tiny_judge(tmp_path_factory):
    """A tiny random DistilRoBERTa-architecture rejection classifier (labels as ProtectAI's model names
    them), with a small tokenizer, saved as a hub checkpoint would be."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaForSequenceClassification

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(["i am sorry i cannot help the image is red blue"],
                            trainers.WordLevelTrainer(special_tokens=["<s>", "<pad>", "</s>", "<unk>"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>")
    cfg = RobertaConfig(vocab_size=len(fast) + 2, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=300, pad_token_id=fast.pad_token_id,
                        num_labels=2, id2label={0: "NORMAL", 1: "REJECTION"}, label2id={"NORMAL": 0, "REJECTION": 1})
    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("judge") / "rejection"
    RobertaForSequenceClassification(cfg).save_pretrained(d)
    fast.save_pretrained(d)
    return d


def test_the_judge_loads_scores_three_ways_and_reports_agreement(tiny_judge):
    judge = refusal.RefusalJudge(str(tiny_judge))
    texts = ["I am sorry, I cannot help.", "The image is red.", "It is too blurry to see."]
    labels = judge.score_all(texts)
    assert labels[2] == "inability" and set(labels) <= set(refusal.LABELS)
    assert judge.refusal_ids == {1}
    keyword = refusal.score_all(texts)
    assert keyword == ["refuse", "comply", "inability"]
    assert refusal.agreement(labels, labels) == pytest.approx(1.0)
    cats = sorted(set(keyword) | set(labels))
    p_o = sum(x == y for x, y in zip(keyword, labels)) / 3
    p_e = sum(keyword.count(c) * labels.count(c) for c in cats) / 9
    assert refusal.agreement(keyword, labels) == pytest.approx((p_o - p_e) / (1 - p_e))


def test_a_judge_without_a_refusal_label_is_refused(tiny_judge, tmp_path):
    import json
    import shutil

    d = tmp_path / "j"
    shutil.copytree(tiny_judge, d)
    cfg = json.loads((d / "config.json").read_text())
    cfg["id2label"], cfg["label2id"] = {"0": "POSITIVE", "1": "NEGATIVE"}, {"POSITIVE": 0, "NEGATIVE": 1}
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="no label of .* names a refusal"):
        refusal.RefusalJudge(str(d))
