"""The baseline pruners the paper compares against, each one module, each registered through the
``splinebench.pruners`` entry-point group exactly as a third-party plug-in is (see pyproject.toml):

=========  ==========================================  ============  ===========  =====================
name       method                                      kind          data-driven  acts
=========  ==========================================  ============  ===========  =====================
ns         network slimming (Liu et al. 2017)          structured    no           during + after train
eb-mask    Early-Bird mask distance (You et al. 2020)  structured    no           during + after train
thinet     ThiNet (Luo et al. 2017)                    structured    yes          after training
l1-norm    L1-norm filters (Li et al. 2017)            structured    no           after training
random     random channels (Su et al. 2020)            structured    no           after training
lt         lottery ticket, one-shot (Frankle 2019)     unstructured  no           after training, rewind
snip       SNIP (Lee et al. 2019)                      unstructured  yes          at initialisation
=========  ==========================================  ============  ===========  =====================
"""
